"""The hopeit app of the streams benchmark (`bench/spec/streams/app-config.json`)."""
