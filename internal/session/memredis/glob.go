package memredis

// globMatch reports whether s matches a Redis glob pattern: * any run, ?
// one byte, [abc] [^abc] [a-z] a class, \x the byte x. Like Redis it
// matches bytes, not runes, and a malformed class matches literally.
func globMatch(pattern, s []byte) bool {
	// Backtrack only to the last *: the classic linear-space matcher.
	var px, sx int
	nextPx, nextSx := -1, -1
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			case '[':
				if sx < len(s) {
					if matched, width := matchClass(pattern[px:], s[sx]); width > 0 {
						if matched {
							px += width
							sx++
							continue
						}
						break
					}
				}
				if sx < len(s) && s[sx] == '[' { // no closing ]: a literal [
					px++
					sx++
					continue
				}
			case '\\':
				if px+1 < len(pattern) {
					if sx < len(s) && s[sx] == pattern[px+1] {
						px += 2
						sx++
						continue
					}
					break
				}
				fallthrough
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if nextSx > 0 && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

// matchClass matches b against the class at the start of p ("[...]"). It
// returns the class's width in p, or 0 when p has no closing ].
func matchClass(p []byte, b byte) (matched bool, width int) {
	i := 1
	negate := i < len(p) && p[i] == '^'
	if negate {
		i++
	}
	for first := true; i < len(p); first = false {
		c := p[i]
		if c == ']' && !first {
			return matched != negate, i + 1
		}
		if c == '\\' && i+1 < len(p) {
			i++
			c = p[i]
		}
		if i+2 < len(p) && p[i+1] == '-' && p[i+2] != ']' {
			lo, hi := c, p[i+2]
			if lo > hi {
				lo, hi = hi, lo
			}
			if lo <= b && b <= hi {
				matched = true
			}
			i += 3
			continue
		}
		if c == b {
			matched = true
		}
		i++
	}
	return false, 0
}
