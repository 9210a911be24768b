"""Writers: blocks that turn documents into files (atomically) plus their stats and manifests."""
