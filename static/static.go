// Package static embeds CSS and images served under /static/.
package static

import "embed"

// FS holds the static assets.
//
//go:embed *.css
var FS embed.FS
