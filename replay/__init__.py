"""Reads and rebuilds, never saves: state as of a moment, timelines, the hash tree, exports and their verification."""
