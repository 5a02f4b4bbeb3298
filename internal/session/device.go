package session

import "strings"

// describeUserAgent names the browser and the operating system of a
// User-Agent in the few words a citizen recognises on their list of
// sessions ("Chrome", "Android"). It guesses from well-known tokens, in
// the order that tells them apart (Edge and Opera say "Chrome" too, every
// browser on iOS says "Safari"); anything else is "" and the page says
// "unknown browser". It decides nothing: a User-Agent is the browser's
// own claim.
func describeUserAgent(ua string) (browser, os string) {
	has := func(s string) bool { return strings.Contains(ua, s) }
	switch {
	case has("Edg/") || has("EdgA/") || has("EdgiOS/"):
		browser = "Edge"
	case has("OPR/") || has("Opera"):
		browser = "Opera"
	case has("SamsungBrowser/"):
		browser = "Samsung Internet"
	case has("coc_coc_browser/"):
		browser = "Cốc Cốc"
	case has("Firefox/") || has("FxiOS/"):
		browser = "Firefox"
	case has("Chrome/") || has("CriOS/") || has("Chromium/"):
		browser = "Chrome"
	case has("Safari/") && has("Version/"):
		browser = "Safari"
	}
	switch {
	case has("Android"):
		os = "Android"
	case has("iPhone") || has("iPad") || has("iPod"):
		os = "iOS"
	case has("Windows"):
		os = "Windows"
	case has("Mac OS X") || has("Macintosh"):
		os = "macOS"
	case has("CrOS"):
		os = "ChromeOS"
	case has("Linux"):
		os = "Linux"
	}
	return browser, os
}
