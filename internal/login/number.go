package login

// ValidCitizenNumber reports whether s is exactly 12 ASCII digits.
func ValidCitizenNumber(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
