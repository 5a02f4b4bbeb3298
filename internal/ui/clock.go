package ui

import (
	"time"
	_ "time/tzdata" // the zone below on machines without a zone database
)

// Zone is the time zone pages show times in: citizens read their own
// clock, whatever zone the server runs in (times are stored in UTC).
var Zone = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		return time.FixedZone("ICT", 7*3600)
	}
	return loc
}()

// Clock writes t as a citizen reads it: "14:02 04/12/2026", in Zone.
func Clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(Zone).Format("15:04 02/01/2006")
}
