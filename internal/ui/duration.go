package ui

import (
	"fmt"
	"time"
)

// Duration says d in lang in its largest fitting unit, rounded up so a
// wait is never understated: under a minute in seconds, under an hour in
// minutes, under two days in hours, days beyond ("45 giây", "1 hour",
// "24 hours", "7 days"). The words are the duration_* messages, with a
// _one and an _other form for languages that mark the plural.
func (c *Catalogue) Duration(lang string, d time.Duration) string {
	if d < 0 {
		d = 0
	}
	var n int64
	var one, other ID
	switch {
	case d < time.Minute:
		n, one, other = ceilDiv(d, time.Second), DurationSecondsOne, DurationSecondsOther
		if n == 60 { // 59.5s: a minute, not "60 seconds"
			n, one, other = 1, DurationMinutesOne, DurationMinutesOther
		}
	case d < time.Hour:
		n, one, other = ceilDiv(d, time.Minute), DurationMinutesOne, DurationMinutesOther
	case d < 48*time.Hour:
		n, one, other = ceilDiv(d, time.Hour), DurationHoursOne, DurationHoursOther
	default:
		n, one, other = ceilDiv(d, 24*time.Hour), DurationDaysOne, DurationDaysOther
	}
	id := other
	if n == 1 {
		id = one
	}
	return fmt.Sprintf(c.Text(lang, id), n)
}

func ceilDiv(d, unit time.Duration) int64 {
	return int64((d + unit - 1) / unit)
}
