package ui

import "strings"

// CSVBOM starts every CSV download: spreadsheet programs read the file as
// UTF-8 (Vietnamese) only with it.
const CSVBOM = "\ufeff"

// CSVCell neutralises a cell a spreadsheet would run as a formula (CSV
// injection, OWASP): one starting with = + - @, a tab or a carriage
// return gets a leading apostrophe. Quoting is encoding/csv's; HTML needs
// no escaping in a CSV download (attachment, text/csv, nosniff).
func CSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
