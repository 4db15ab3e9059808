package audiofork

// Unpaced makes the server's calls write frames as soon as they are queued
// (benchmarks).
func Unpaced(c *Config) { c.unpaced = true }
