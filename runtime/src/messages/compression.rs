//! `comp`: how a serialized payload is compressed (hopeit's `compression.py`).
//!
//! The formats are hopeit's: `lz4` an LZ4 frame, `zip` a zlib stream (not a zip archive),
//! `gzip` a gzip member, `bz2` a bzip2 stream, `lzma` an xz container. The level after the
//! colon is the encoder's; a reader needs none of them.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use super::CodecError;

/// The largest LZ4 block hopeit writes, and the input size up to which its frame holds a
/// single, independent block.
const LZ4_BLOCK: usize = 64 * 1024;

/// The `comp` of a stream message: exactly hopeit's fourteen `Compression` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// `none`: the bytes as they are.
    None,
    /// `lz4`: an LZ4 frame (hopeit's level 3).
    Lz4,
    /// `lz4:0`: an LZ4 frame (level 0).
    Lz4L0,
    /// `lz4:16`: an LZ4 frame (level 16, high compression in hopeit).
    Lz4L16,
    /// `zip`: a zlib stream at level 6.
    Zip,
    /// `zip:1`: a zlib stream at level 1.
    ZipL1,
    /// `zip:9`: a zlib stream at level 9.
    ZipL9,
    /// `gzip`: a gzip member at level 9.
    Gzip,
    /// `gzip:1`: a gzip member at level 1.
    GzipL1,
    /// `gzip:9`: a gzip member at level 9.
    GzipL9,
    /// `bz2`: a bzip2 stream at level 9.
    Bz2,
    /// `bz2:1`: a bzip2 stream at level 1.
    Bz2L1,
    /// `bz2:9`: a bzip2 stream at level 9.
    Bz2L9,
    /// `lzma`: an xz container.
    Lzma,
}

/// The format behind a value, and the level its encoder uses.
enum Format {
    None,
    Lz4,
    Zlib(u32),
    Gzip(u32),
    Bz2(u32),
    Xz,
}

impl Compression {
    /// Every value, in hopeit's order.
    pub const ALL: [Self; 14] = [
        Self::None,
        Self::Lz4,
        Self::Lz4L0,
        Self::Lz4L16,
        Self::Zip,
        Self::ZipL1,
        Self::ZipL9,
        Self::Gzip,
        Self::GzipL1,
        Self::GzipL9,
        Self::Bz2,
        Self::Bz2L1,
        Self::Bz2L9,
        Self::Lzma,
    ];

    /// The value as a message's `comp` field carries it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Lz4 => "lz4",
            Self::Lz4L0 => "lz4:0",
            Self::Lz4L16 => "lz4:16",
            Self::Zip => "zip",
            Self::ZipL1 => "zip:1",
            Self::ZipL9 => "zip:9",
            Self::Gzip => "gzip",
            Self::GzipL1 => "gzip:1",
            Self::GzipL9 => "gzip:9",
            Self::Bz2 => "bz2",
            Self::Bz2L1 => "bz2:1",
            Self::Bz2L9 => "bz2:9",
            Self::Lzma => "lzma",
        }
    }

    /// hopeit's default levels where the value names none.
    const fn format(self) -> Format {
        match self {
            Self::None => Format::None,
            // lz4_flex has one (fast) compressor: the level does not change the frame's format.
            Self::Lz4 | Self::Lz4L0 | Self::Lz4L16 => Format::Lz4,
            Self::Zip => Format::Zlib(6),
            Self::ZipL1 => Format::Zlib(1),
            Self::ZipL9 => Format::Zlib(9),
            Self::Gzip | Self::GzipL9 => Format::Gzip(9),
            Self::GzipL1 => Format::Gzip(1),
            Self::Bz2 | Self::Bz2L9 => Format::Bz2(9),
            Self::Bz2L1 => Format::Bz2(1),
            Self::Lzma => Format::Xz,
        }
    }

    /// `data` compressed as hopeit compresses it.
    pub(crate) fn compress(self, data: &[u8]) -> Result<Vec<u8>, CodecError> {
        let io_error = |source| CodecError::Compress {
            compression: self.as_str(),
            source,
        };
        match self.format() {
            Format::None => Ok(data.to_vec()),
            Format::Lz4 => lz4_frame(data).map_err(io_error),
            Format::Zlib(level) => {
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(level));
                e.write_all(data)
                    .and_then(|()| e.finish())
                    .map_err(io_error)
            }
            Format::Gzip(level) => {
                let mut e =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
                e.write_all(data)
                    .and_then(|()| e.finish())
                    .map_err(io_error)
            }
            Format::Bz2(level) => {
                let mut e =
                    bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(level));
                e.write_all(data)
                    .and_then(|()| e.finish())
                    .map_err(io_error)
            }
            Format::Xz => {
                let mut out = Vec::new();
                lzma_rs::xz_compress(&mut &data[..], &mut out).map_err(io_error)?;
                Ok(out)
            }
        }
    }

    /// `data` decompressed, never more than `max_size` bytes of it.
    pub(crate) fn decompress(self, data: &[u8], max_size: usize) -> Result<Vec<u8>, CodecError> {
        let too_large = CodecError::TooLarge { limit: max_size };
        let io_error = |source| CodecError::Decompress {
            compression: self.as_str(),
            source,
        };
        let out = match self.format() {
            Format::None => {
                if data.len() > max_size {
                    return Err(too_large);
                }
                return Ok(data.to_vec());
            }
            Format::Lz4 => read_lz4_frame(data, max_size),
            Format::Zlib(_) => read_bounded(flate2::read::ZlibDecoder::new(data), max_size),
            // Python's `gzip.decompress` and `bz2.decompress` read concatenated members too.
            Format::Gzip(_) => read_bounded(flate2::read::MultiGzDecoder::new(data), max_size),
            Format::Bz2(_) => read_bounded(bzip2::read::MultiBzDecoder::new(data), max_size),
            Format::Xz => {
                let mut out = Bounded {
                    buf: Vec::new(),
                    max: max_size,
                    exceeded: false,
                };
                match lzma_rs::xz_decompress(&mut &data[..], &mut out) {
                    Ok(()) => Ok(Some(out.buf)),
                    Err(_) if out.exceeded => return Err(too_large),
                    Err(e) => Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
                }
            }
        };
        match out {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => Err(too_large),
            Err(e) => Err(io_error(e)),
        }
    }
}

/// An LZ4 frame as Python's `lz4.frame.compress` writes it: content size present, 64 KB
/// blocks, no checksums; one independent block up to 64 KB (FLG `0x68`), linked blocks above
/// (FLG `0x48`), as lz4's C library marks them.
fn lz4_frame(data: &[u8]) -> io::Result<Vec<u8>> {
    use lz4_flex::frame::{BlockMode, BlockSize, FrameEncoder, FrameInfo};
    if data.len() <= LZ4_BLOCK {
        return Ok(lz4_single_block_frame(data));
    }
    let info = FrameInfo::new()
        .content_size(Some(data.len() as u64))
        .block_size(BlockSize::Max64KB)
        .block_mode(BlockMode::Linked);
    let mut e = FrameEncoder::with_frame_info(info, Vec::with_capacity(data.len() / 2 + 32));
    e.write_all(data)?;
    e.finish().map_err(io::Error::other)
}

thread_local! {
    /// The block compressor's match table, kept: allocating a zeroed one per message costs
    /// more than compressing a message of a few hundred bytes.
    static LZ4_TABLE: std::cell::RefCell<lz4_flex::block::CompressTable> =
        std::cell::RefCell::new(lz4_flex::block::CompressTable::small());
}

/// The frame of at most one block, written directly: lz4_flex's frame encoder sets up 64 KB
/// buffers and a 16 KB match table for every frame, several times the cost of compressing a
/// message of a few hundred bytes.
fn lz4_single_block_frame(data: &[u8]) -> Vec<u8> {
    const MAGIC: [u8; 4] = 0x184D_2204_u32.to_le_bytes();
    // Version 1, independent blocks, content size present; blocks up to 64 KB.
    const FLG: u8 = 0x68;
    const BD: u8 = 0x40;
    /// The high bit of a block's size: the block is stored uncompressed.
    const STORED: u32 = 0x8000_0000;

    let bound = lz4_flex::block::get_maximum_output_size(data.len());
    let mut frame = Vec::with_capacity(15 + 4 + bound.max(data.len()) + 4);
    frame.extend_from_slice(&MAGIC);
    let descriptor = frame.len();
    frame.extend_from_slice(&[FLG, BD]);
    frame.extend_from_slice(&(data.len() as u64).to_le_bytes());
    // The header checksum: the second byte of the descriptor's xxHash32.
    let checksum = (twox_hash::XxHash32::oneshot(0, &frame[descriptor..]) >> 8) as u8;
    frame.push(checksum);
    if !data.is_empty() {
        let size_at = frame.len();
        frame.extend_from_slice(&[0; 4]);
        let start = frame.len();
        frame.resize(start + bound, 0);
        let compressed = LZ4_TABLE
            .with_borrow_mut(|table| {
                lz4_flex::block::compress_into_with_table(data, &mut frame[start..], table)
            })
            .ok()
            .filter(|&n| n < data.len());
        let size = match compressed {
            Some(n) => {
                frame.truncate(start + n);
                n as u32
            }
            // Incompressible: stored as it is, as lz4's C library does.
            None => {
                frame.truncate(start);
                frame.extend_from_slice(data);
                data.len() as u32 | STORED
            }
        };
        frame[size_at..start].copy_from_slice(&size.to_le_bytes());
    }
    frame.extend_from_slice(&[0; 4]);
    frame
}

/// The content of one LZ4 frame, or `None` past `max` bytes.
///
/// lz4_flex takes the input's end for the frame's end wherever a block header would start, so a
/// frame cut between blocks would read as a shorter one. Python's reader refuses those; so does
/// this one: the whole input must be read, end with the end mark (and the content checksum when
/// the frame has one), and match the content size when the frame gives it, as hopeit's do.
fn read_lz4_frame(data: &[u8], max: usize) -> io::Result<Option<Vec<u8>>> {
    if let Some(content) = read_single_block_frame(data, max) {
        return Ok(Some(content));
    }
    let mut decoder = lz4_flex::frame::FrameDecoder::new(data);
    let mut buf = Vec::new();
    (&mut decoder).take(max as u64 + 1).read_to_end(&mut buf)?;
    if buf.len() > max {
        return Ok(None);
    }
    let invalid =
        |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("LZ4 frame {what}"));
    if !decoder.get_ref().is_empty() {
        return Err(invalid("has bytes after its end"));
    }
    // The decoder has read a valid header, so `data` holds at least its 7 bytes.
    let flg = data.get(4).copied().unwrap_or_default();
    let trailer = if flg & 0x04 != 0 { 8 } else { 4 };
    let end_mark = data
        .len()
        .checked_sub(trailer)
        .and_then(|at| data.get(at..at + 4));
    if end_mark != Some(&[0u8; 4][..]) {
        return Err(invalid("is truncated"));
    }
    if flg & 0x08 != 0 {
        let size = data
            .get(6..14)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_le_bytes);
        if size != Some(buf.len() as u64) {
            return Err(invalid("does not hold its content size"));
        }
    }
    Ok(Some(buf))
}

/// The content of a frame of one block that gives its content size, as hopeit writes every
/// message up to 64 KB: read directly, since lz4_flex's frame decoder zeroes a 64 KB buffer
/// for every frame. `None` for any other frame, valid or not, and past `max` bytes: the
/// frame decoder reads those and says what is wrong.
fn read_single_block_frame(data: &[u8], max: usize) -> Option<Vec<u8>> {
    const FLG_VERSION: u8 = 0xC0;
    const FLG_BLOCK_CHECKSUM: u8 = 0x10;
    const FLG_CONTENT_SIZE: u8 = 0x08;
    const FLG_CONTENT_CHECKSUM: u8 = 0x04;
    const FLG_RESERVED_AND_DICT: u8 = 0x03;
    const STORED: u32 = 0x8000_0000;
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
    };
    let (flg, bd) = (*data.get(4)?, *data.get(5)?);
    if word(0)? != 0x184D_2204
        || flg & FLG_VERSION != 0x40
        || flg & (FLG_BLOCK_CHECKSUM | FLG_RESERVED_AND_DICT) != 0
        || flg & FLG_CONTENT_SIZE == 0
    {
        return None;
    }
    let size = usize::try_from(u64::from_le_bytes(data.get(6..14)?.try_into().ok()?)).ok()?;
    let block_max = match (bd >> 4) & 0x07 {
        n @ 4..=7 => 1usize << (8 + 2 * n),
        _ => return None,
    };
    if size > max
        || size > block_max
        || *data.get(14)? != (twox_hash::XxHash32::oneshot(0, &data[4..14]) >> 8) as u8
    {
        return None;
    }
    let mut content = vec![0; size];
    let mut at = 15;
    let block = word(at)?;
    if block != 0 {
        let len = (block & !STORED) as usize;
        let bytes = data.get(at + 4..at + 4 + len)?;
        if block & STORED != 0 {
            if len != size {
                return None;
            }
            content.copy_from_slice(bytes);
        } else if lz4_flex::block::decompress_into(bytes, &mut content).ok()? != size {
            return None;
        }
        at += 4 + len;
    } else if size != 0 {
        return None;
    }
    if word(at)? != 0 {
        return None;
    }
    at += 4;
    if flg & FLG_CONTENT_CHECKSUM != 0 {
        if word(at)? != twox_hash::XxHash32::oneshot(0, &content) {
            return None;
        }
        at += 4;
    }
    (at == data.len()).then_some(content)
}

/// Everything `r` yields, or `None` past `max` bytes: read one byte beyond the limit, so that
/// a payload of exactly `max` bytes passes and a bomb stops as soon as it is one byte over.
fn read_bounded(r: impl Read, max: usize) -> io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    r.take(max as u64 + 1).read_to_end(&mut buf)?;
    Ok((buf.len() <= max).then_some(buf))
}

/// A writer that refuses bytes past `max`, for decoders that write rather than read.
struct Bounded {
    buf: Vec<u8>,
    max: usize,
    exceeded: bool,
}

impl Write for Bounded {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() + data.len() > self.max {
            self.exceeded = true;
            return Err(io::Error::other("decoded size limit exceeded"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl FromStr for Compression {
    type Err = CodecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| CodecError::UnknownCompression(s.to_owned()))
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lz4_flex::frame::{BlockSize, FrameEncoder, FrameInfo};

    fn frame(data: &[u8], info: FrameInfo) -> Vec<u8> {
        let mut e = FrameEncoder::with_frame_info(info, Vec::new());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn single_block_frames_read_directly_as_the_frame_decoder_reads_them() {
        let text = b"{\"order_id\":\"order-1\",\"qty\":3,\"note\":\"again and again and again\"}";
        let sized = || {
            FrameInfo::new()
                .content_size(Some(text.len() as u64))
                .block_size(BlockSize::Max64KB)
        };
        let plain = frame(text, sized());
        assert_eq!(read_single_block_frame(&plain, 1 << 20).unwrap(), text);
        let checked = frame(text, sized().content_checksum(true));
        assert_eq!(read_single_block_frame(&checked, 1 << 20).unwrap(), text);
        let ours = lz4_single_block_frame(text);
        assert_eq!(read_single_block_frame(&ours, 1 << 20).unwrap(), text);
        // A stored block: its size's high bit set.
        let mut stored = ours[..15].to_vec();
        stored.extend_from_slice(&(text.len() as u32 | 0x8000_0000).to_le_bytes());
        stored.extend_from_slice(text);
        stored.extend_from_slice(&[0; 4]);
        assert_eq!(read_single_block_frame(&stored, 1 << 20).unwrap(), text);
        for good in [&plain, &checked, &ours, &stored] {
            assert_eq!(read_lz4_frame(good, 1 << 20).unwrap().unwrap(), text);
        }

        // What it leaves to the frame decoder: no content size, block checksums, over the
        // limit, damage.
        let unsized_frame = frame(text, FrameInfo::new());
        let block_checked = frame(text, sized().block_checksums(true));
        for other in [&unsized_frame, &block_checked] {
            assert!(read_single_block_frame(other, 1 << 20).is_none());
            assert_eq!(read_lz4_frame(other, 1 << 20).unwrap().unwrap(), text);
        }
        assert!(read_single_block_frame(&plain, text.len() - 1).is_none());
        assert_eq!(read_lz4_frame(&plain, text.len() - 1).unwrap(), None);
        let mut bad_sum = checked.clone();
        let last = bad_sum.len() - 1;
        bad_sum[last] ^= 1;
        let mut bad_header = plain.clone();
        bad_header[14] ^= 1;
        let mut trailing = plain.clone();
        trailing.push(0);
        for bad in [
            &bad_sum,
            &bad_header,
            &trailing,
            &plain[..plain.len() - 1].to_vec(),
        ] {
            assert!(read_single_block_frame(bad, 1 << 20).is_none());
            assert!(read_lz4_frame(bad, 1 << 20).is_err());
        }
    }
}
