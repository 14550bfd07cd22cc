"""Images → image cache: discovery of the source layout, parallel decoding, the cache format."""
