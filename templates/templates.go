// Package templates embeds the server-rendered HTML pages.
package templates

import "embed"

// FS holds every page and the shared layout, and the messages to
// citizens (notify/<lang>.txt and notify/<lang>.html, see internal/notify).
//
//go:embed *.html notify/*.txt notify/*.html
var FS embed.FS
