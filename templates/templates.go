// Package templates embeds the server-rendered HTML pages.
package templates

import "embed"

// FS holds every page and the shared layout.
//
//go:embed *.html
var FS embed.FS
