"""shop: the hopeit side of appwire's Redis Streams tests."""
