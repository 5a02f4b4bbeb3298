package assurance

import (
	"testing"
	"time"
)

func TestDecayed(t *testing.T) {
	limits := DefaultLimits()
	tests := []struct {
		level Level
		idle  time.Duration
		want  Level
	}{
		{VeryHigh, 0, VeryHigh},
		{VeryHigh, 15 * time.Minute, VeryHigh}, // the limit itself still holds
		{VeryHigh, 15*time.Minute + time.Second, Substantial},
		{High, 16 * time.Minute, Substantial},
		{High, time.Hour, Substantial},
		{High, time.Hour + time.Nanosecond, Low},
		{Substantial, 59 * time.Minute, Substantial},
		{Substantial, 2 * time.Hour, Low},
		{Low, 1000 * time.Hour, Low}, // level 1 has no idle limit of its own
		{0, 0, 0},
	}
	for _, tt := range tests {
		if got := Decayed(tt.level, tt.idle, limits); got != tt.want {
			t.Errorf("Decayed(%d, %v): got %d, want %d", tt.level, tt.idle, got, tt.want)
		}
	}
	strict := Limits{Low: {Idle: time.Minute}}
	if got := Decayed(Low, 2*time.Minute, strict); got != 0 {
		t.Errorf("level 1 past its own idle limit: got %d, want 0", got)
	}
}
