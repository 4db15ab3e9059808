// Package web holds the static pages `parole serve` serves, embedded in the
// binary so they work without a build step and send no request outside the
// parole server.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// FS returns the pages, rooted at the static folder (index.html at "index.html").
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// The folder is embedded at build time: a failure here is a build bug.
		panic(err)
	}
	return sub
}
