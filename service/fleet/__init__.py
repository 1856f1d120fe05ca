"""Districts as shards: one application and read side per shard in a process, and the move of a district."""
