package assurance

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// now is the clock of every table case.
var now = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

func ago(d time.Duration) time.Time { return now.Add(-d) }

func pwd(at time.Time) Event {
	return Event{Method: "pwd", AMR: []string{AMRPassword}, Level: Low, Time: at}
}

func otp(at time.Time) Event {
	return Event{Method: "otp", AMR: []string{AMROTP}, Level: Substantial, SecondFactor: true, Time: at}
}

// securityKey is a security key without user verification: a second factor.
func securityKey(at time.Time) Event {
	return Event{Method: "webauthn", AMR: []string{AMRHardware}, Level: Substantial, SecondFactor: true, Time: at}
}

// passkey is a synced passkey with user verification: level 2 alone.
func passkey(at time.Time) Event {
	return Event{Method: "webauthn", AMR: []string{AMRSoftware, AMRUser}, Level: Substantial, Time: at}
}

// webauthn is a device-bound credential with user verification: level 3.
func webauthn(at time.Time) Event {
	return Event{Method: "webauthn", AMR: []string{AMRHardware, AMRUser, AMRMFA}, Level: High, Time: at}
}

func cert(at time.Time) Event {
	return Event{Method: "cert", AMR: []string{AMRSmart, AMRHardware, AMRPIN, AMRMFA}, Level: VeryHigh, Time: at}
}

func recovery(at time.Time) Event {
	return Event{Method: MethodRecovery, AMR: []string{AMRPassword}, Level: Low, Time: at}
}

func dur(d time.Duration) *time.Duration { return &d }

func TestEvaluate(t *testing.T) {
	const ns = time.Nanosecond
	tests := []struct {
		name   string
		events []Event
		// idle is now - lastActivity (the caller's value; Evaluate also
		// counts the latest event as activity); zeroLast passes the zero
		// time instead.
		idle     time.Duration
		zeroLast bool
		req      Request
		limits   Limits // nil: DefaultLimits

		level      Level
		amr        []string
		picked     []Event // Result.Events; nil: none
		authTime   time.Time
		satisfied  bool
		needFirst  bool
		needSecond bool
	}{
		{
			name:      "no events",
			events:    nil,
			needFirst: true,
		},
		{
			name:       "empty events, level 2 asked",
			events:     []Event{},
			req:        Request{MinLevel: Substantial},
			needFirst:  true,
			needSecond: true,
		},
		{
			name:      "password alone",
			events:    []Event{pwd(ago(time.Minute))},
			level:     Low,
			amr:       []string{"pwd"},
			picked:    []Event{pwd(ago(time.Minute))},
			authTime:  ago(time.Minute),
			satisfied: true,
		},
		{
			name:       "password alone, level 2 asked",
			events:     []Event{pwd(ago(time.Minute))},
			req:        Request{MinLevel: Substantial},
			level:      Low,
			amr:        []string{"pwd"},
			picked:     []Event{pwd(ago(time.Minute))},
			authTime:   ago(time.Minute),
			needSecond: true,
		},
		{
			name:      "password and otp",
			events:    []Event{pwd(ago(2 * time.Minute)), otp(ago(time.Minute))},
			req:       Request{MinLevel: Substantial},
			level:     Substantial,
			amr:       []string{"pwd", "otp", "mfa"},
			picked:    []Event{pwd(ago(2 * time.Minute)), otp(ago(time.Minute))},
			authTime:  ago(time.Minute),
			satisfied: true,
		},
		{
			name:      "password and otp listed newest first",
			events:    []Event{otp(ago(time.Minute)), pwd(ago(2 * time.Minute))},
			level:     Substantial,
			amr:       []string{"pwd", "otp", "mfa"},
			picked:    []Event{pwd(ago(2 * time.Minute)), otp(ago(time.Minute))},
			authTime:  ago(time.Minute),
			satisfied: true,
		},
		{
			name:      "password and otp at the same time, otp listed first",
			events:    []Event{otp(ago(time.Minute)), pwd(ago(time.Minute))},
			level:     Substantial,
			amr:       []string{"pwd", "otp", "mfa"},
			picked:    []Event{pwd(ago(time.Minute)), otp(ago(time.Minute))},
			authTime:  ago(time.Minute),
			satisfied: true,
		},
		{
			name:      "password and security key",
			events:    []Event{pwd(ago(2 * time.Minute)), securityKey(ago(time.Minute))},
			level:     Substantial,
			amr:       []string{"pwd", "hwk", "mfa"},
			picked:    []Event{pwd(ago(2 * time.Minute)), securityKey(ago(time.Minute))},
			authTime:  ago(time.Minute),
			satisfied: true,
		},
		{
			name:      "otp alone",
			events:    []Event{otp(ago(time.Minute))},
			needFirst: true,
		},
		{
			name:      "otp alone, level 2 asked",
			events:    []Event{otp(ago(time.Minute))},
			req:       Request{MinLevel: Substantial},
			needFirst: true,
		},
		{
			name:      "level 2 at exactly 24h",
			events:    []Event{pwd(ago(24 * time.Hour)), otp(ago(23 * time.Hour))},
			req:       Request{MinLevel: Substantial},
			level:     Substantial,
			amr:       []string{"pwd", "otp", "mfa"},
			picked:    []Event{pwd(ago(24 * time.Hour)), otp(ago(23 * time.Hour))},
			authTime:  ago(23 * time.Hour),
			satisfied: true,
		},
		{
			// Level 1 has no limits, so the pair still makes level 1 and
			// is the freshest set.
			name:      "level 2 decays 1ns past 24h",
			events:    []Event{pwd(ago(24*time.Hour + ns)), otp(ago(23 * time.Hour))},
			req:       Request{MinLevel: Substantial},
			level:     Low,
			amr:       []string{"pwd", "otp", "mfa"},
			picked:    []Event{pwd(ago(24*time.Hour + ns)), otp(ago(23 * time.Hour))},
			authTime:  ago(23 * time.Hour),
			needFirst: true,
		},
		{
			// At level 1 the pair is no fresher than the password alone.
			name:      "level 2 second factor 1ns past 24h",
			events:    []Event{pwd(ago(time.Hour)), otp(ago(24*time.Hour + ns))},
			idle:      time.Hour,
			level:     Low,
			amr:       []string{"pwd"},
			picked:    []Event{pwd(ago(time.Hour))},
			authTime:  ago(time.Hour),
			satisfied: true,
		},
		{
			name:      "level 2 at exactly 1h idle",
			events:    []Event{pwd(ago(3 * time.Hour)), otp(ago(2 * time.Hour))},
			idle:      time.Hour,
			req:       Request{MinLevel: Substantial},
			level:     Substantial,
			amr:       []string{"pwd", "otp", "mfa"},
			picked:    []Event{pwd(ago(3 * time.Hour)), otp(ago(2 * time.Hour))},
			authTime:  ago(2 * time.Hour),
			satisfied: true,
		},
		{
			// Idle applies to the whole level: both factors are asked again.
			name:       "level 2 idle 1ns past 1h",
			events:     []Event{pwd(ago(3 * time.Hour)), otp(ago(2 * time.Hour))},
			idle:       time.Hour + ns,
			req:        Request{MinLevel: Substantial},
			level:      Low,
			amr:        []string{"pwd", "otp", "mfa"},
			picked:     []Event{pwd(ago(3 * time.Hour)), otp(ago(2 * time.Hour))},
			authTime:   ago(2 * time.Hour),
			needFirst:  true,
			needSecond: true,
		},
		{
			name:      "caller's zero last activity: the latest event is activity",
			events:    []Event{webauthn(ago(5 * time.Minute))},
			zeroLast:  true,
			level:     High,
			amr:       []string{"hwk", "user", "mfa"},
			picked:    []Event{webauthn(ago(5 * time.Minute))},
			authTime:  ago(5 * time.Minute),
			satisfied: true,
		},
		{
			name:      "level 3 alone, level 2 asked",
			events:    []Event{webauthn(ago(time.Minute))},
			req:       Request{MinLevel: Substantial},
			level:     High,
			amr:       []string{"hwk", "user", "mfa"},
			picked:    []Event{webauthn(ago(time.Minute))},
			authTime:  ago(time.Minute),
			satisfied: true,
		},
		{
			name:      "level 3 at exactly 12h",
			events:    []Event{webauthn(ago(12 * time.Hour))},
			req:       Request{MinLevel: High},
			level:     High,
			amr:       []string{"hwk", "user", "mfa"},
			picked:    []Event{webauthn(ago(12 * time.Hour))},
			authTime:  ago(12 * time.Hour),
			satisfied: true,
		},
		{
			// Neither need is set above level 2.
			name:     "level 3 decays 1ns past 12h to level 2",
			events:   []Event{webauthn(ago(12*time.Hour + ns))},
			req:      Request{MinLevel: High},
			level:    Substantial,
			amr:      []string{"hwk", "user", "mfa"},
			picked:   []Event{webauthn(ago(12*time.Hour + ns))},
			authTime: ago(12*time.Hour + ns),
		},
		{
			name:      "level 3 at exactly 15m idle",
			events:    []Event{webauthn(ago(time.Hour))},
			idle:      15 * time.Minute,
			level:     High,
			amr:       []string{"hwk", "user", "mfa"},
			picked:    []Event{webauthn(ago(time.Hour))},
			authTime:  ago(time.Hour),
			satisfied: true,
		},
		{
			name:      "level 3 idle-decayed, still within level 2 limits",
			events:    []Event{webauthn(ago(time.Hour))},
			idle:      15*time.Minute + ns,
			req:       Request{MinLevel: Substantial},
			level:     Substantial,
			amr:       []string{"hwk", "user", "mfa"},
			picked:    []Event{webauthn(ago(time.Hour))},
			authTime:  ago(time.Hour),
			satisfied: true,
		},
		{
			name:       "level 3 idle past level 2 too",
			events:     []Event{webauthn(ago(2 * time.Hour))},
			idle:       time.Hour + ns,
			req:        Request{MinLevel: Substantial},
			level:      Low,
			amr:        []string{"hwk", "user", "mfa"},
			picked:     []Event{webauthn(ago(2 * time.Hour))},
			authTime:   ago(2 * time.Hour),
			needFirst:  true,
			needSecond: true,
		},
		{
			name:      "level 4 certificate",
			events:    []Event{pwd(ago(time.Minute)), cert(ago(2 * time.Minute))},
			req:       Request{MinLevel: VeryHigh},
			level:     VeryHigh,
			amr:       []string{"sc", "hwk", "pin", "mfa"},
			picked:    []Event{cert(ago(2 * time.Minute))},
			authTime:  ago(2 * time.Minute),
			satisfied: true,
		},
		{
			name:      "level 4 at exactly 12h",
			events:    []Event{cert(ago(12 * time.Hour))},
			level:     VeryHigh,
			amr:       []string{"sc", "hwk", "pin", "mfa"},
			picked:    []Event{cert(ago(12 * time.Hour))},
			authTime:  ago(12 * time.Hour),
			satisfied: true,
		},
		{
			name:     "level 4 decays 1ns past 12h to level 2",
			events:   []Event{cert(ago(12*time.Hour + ns))},
			req:      Request{MinLevel: VeryHigh},
			level:    Substantial,
			amr:      []string{"sc", "hwk", "pin", "mfa"},
			picked:   []Event{cert(ago(12*time.Hour + ns))},
			authTime: ago(12*time.Hour + ns),
		},
		{
			name:     "level 4 idle 1ns past 15m",
			events:   []Event{cert(ago(time.Hour))},
			idle:     15*time.Minute + ns,
			req:      Request{MinLevel: VeryHigh},
			level:    Substantial,
			amr:      []string{"sc", "hwk", "pin", "mfa"},
			picked:   []Event{cert(ago(time.Hour))},
			authTime: ago(time.Hour),
		},
		{
			name:      "level 4 past 24h",
			events:    []Event{cert(ago(24*time.Hour + ns))},
			level:     Low,
			amr:       []string{"sc", "hwk", "pin", "mfa"},
			picked:    []Event{cert(ago(24*time.Hour + ns))},
			authTime:  ago(24*time.Hour + ns),
			satisfied: true,
		},
		{
			name:      "level 3 wins over a fresher level 2 pair",
			events:    []Event{webauthn(ago(10 * time.Minute)), pwd(ago(2 * time.Minute)), otp(ago(time.Minute))},
			level:     High,
			amr:       []string{"hwk", "user", "mfa"},
			picked:    []Event{webauthn(ago(10 * time.Minute))},
			authTime:  ago(10 * time.Minute),
			satisfied: true,
		},
		{
			name:      "max_age nil",
			events:    []Event{pwd(ago(240 * time.Hour))},
			level:     Low,
			amr:       []string{"pwd"},
			picked:    []Event{pwd(ago(240 * time.Hour))},
			authTime:  ago(240 * time.Hour),
			satisfied: true,
		},
		{
			name:      "max_age 0, event a second old",
			events:    []Event{pwd(ago(time.Second))},
			req:       Request{MaxAge: dur(0)},
			needFirst: true,
		},
		{
			name:      "max_age 0, event now",
			events:    []Event{pwd(now)},
			req:       Request{MaxAge: dur(0)},
			level:     Low,
			amr:       []string{"pwd"},
			picked:    []Event{pwd(now)},
			authTime:  now,
			satisfied: true,
		},
		{
			name:      "max_age equal to the age",
			events:    []Event{pwd(ago(5 * time.Minute))},
			req:       Request{MaxAge: dur(5 * time.Minute)},
			level:     Low,
			amr:       []string{"pwd"},
			picked:    []Event{pwd(ago(5 * time.Minute))},
			authTime:  ago(5 * time.Minute),
			satisfied: true,
		},
		{
			name:      "max_age 1ns less than the age",
			events:    []Event{pwd(ago(5 * time.Minute))},
			req:       Request{MaxAge: dur(5*time.Minute - ns)},
			needFirst: true,
		},
		{
			name:      "max_age applies to every event of the set",
			events:    []Event{pwd(ago(10 * time.Minute)), otp(ago(time.Minute))},
			req:       Request{MinLevel: Substantial, MaxAge: dur(5 * time.Minute)},
			needFirst: true,
		},
		{
			name:      "max_age picks the fresh password among several",
			events:    []Event{pwd(ago(10 * time.Minute)), pwd(ago(2 * time.Minute)), otp(ago(time.Minute))},
			req:       Request{MinLevel: Substantial, MaxAge: dur(5 * time.Minute)},
			level:     Substantial,
			amr:       []string{"pwd", "otp", "mfa"},
			picked:    []Event{pwd(ago(2 * time.Minute)), otp(ago(time.Minute))},
			authTime:  ago(time.Minute),
			satisfied: true,
		},
		{
			name:      "client max age equal to the age",
			events:    []Event{pwd(ago(2 * time.Hour))},
			req:       Request{ClientMaxAge: 2 * time.Hour},
			level:     Low,
			amr:       []string{"pwd"},
			picked:    []Event{pwd(ago(2 * time.Hour))},
			authTime:  ago(2 * time.Hour),
			satisfied: true,
		},
		{
			name:      "client max age 1ns less than the age",
			events:    []Event{pwd(ago(2 * time.Hour))},
			req:       Request{ClientMaxAge: 2*time.Hour - ns},
			needFirst: true,
		},
		{
			name:       "client max age cuts the second factor",
			events:     []Event{pwd(ago(time.Minute)), otp(ago(2 * time.Hour))},
			idle:       time.Minute,
			req:        Request{MinLevel: Substantial, ClientMaxAge: time.Hour},
			level:      Low,
			amr:        []string{"pwd"},
			picked:     []Event{pwd(ago(time.Minute))},
			authTime:   ago(time.Minute),
			needSecond: true,
		},
		{
			name:      "client max age 0: none",
			events:    []Event{pwd(ago(240 * time.Hour))},
			req:       Request{ClientMaxAge: 0},
			level:     Low,
			amr:       []string{"pwd"},
			picked:    []Event{pwd(ago(240 * time.Hour))},
			authTime:  ago(240 * time.Hour),
			satisfied: true,
		},
		{
			name:      "old password, fresh otp",
			events:    []Event{pwd(ago(25 * time.Hour)), otp(ago(time.Minute))},
			req:       Request{MinLevel: Substantial},
			level:     Low,
			amr:       []string{"pwd", "otp", "mfa"},
			picked:    []Event{pwd(ago(25 * time.Hour)), otp(ago(time.Minute))},
			authTime:  ago(time.Minute),
			needFirst: true,
		},
		{
			name:      "old password, fresh otp, level 1 asked",
			events:    []Event{pwd(ago(25 * time.Hour)), otp(ago(time.Minute))},
			level:     Low,
			amr:       []string{"pwd", "otp", "mfa"},
			picked:    []Event{pwd(ago(25 * time.Hour)), otp(ago(time.Minute))},
			authTime:  ago(time.Minute),
			satisfied: true,
		},
		{
			name:      "future events count as now",
			events:    []Event{pwd(now.Add(time.Hour)), otp(now.Add(2 * time.Hour))},
			idle:      -time.Hour, // last activity in the future too
			req:       Request{MinLevel: Substantial, MaxAge: dur(0)},
			level:     Substantial,
			amr:       []string{"pwd", "otp", "mfa"},
			picked:    []Event{pwd(now), otp(now)},
			authTime:  now,
			satisfied: true,
		},
		{
			name:      "future level 3 event",
			events:    []Event{webauthn(now.Add(time.Minute))},
			req:       Request{MinLevel: High},
			level:     High,
			amr:       []string{"hwk", "user", "mfa"},
			picked:    []Event{webauthn(now)},
			authTime:  now,
			satisfied: true,
		},
		{
			name:      "recovery code alone",
			events:    []Event{recovery(ago(time.Minute))},
			level:     Low,
			amr:       []string{"pwd"},
			picked:    []Event{recovery(ago(time.Minute))},
			authTime:  ago(time.Minute),
			satisfied: true,
		},
		{
			name:      "recovery code and otp stay at level 1",
			events:    []Event{recovery(ago(2 * time.Minute)), otp(ago(time.Minute))},
			req:       Request{MinLevel: Substantial},
			level:     Low,
			amr:       []string{"pwd"},
			picked:    []Event{recovery(ago(2 * time.Minute))},
			authTime:  ago(2 * time.Minute),
			needFirst: true,
		},
		{
			name: "recovery code claiming level 3 stays at level 1",
			events: []Event{{
				Method: MethodRecovery, AMR: []string{AMRPassword}, Level: High, Time: ago(time.Minute),
			}},
			req:   Request{MinLevel: Substantial},
			level: Low,
			amr:   []string{"pwd"},
			picked: []Event{{
				Method: MethodRecovery, AMR: []string{AMRPassword}, Level: High, Time: ago(time.Minute),
			}},
			authTime:   ago(time.Minute),
			needFirst:  true,
			needSecond: true,
		},
		{
			name:      "password, recovery code and otp",
			events:    []Event{pwd(ago(3 * time.Minute)), recovery(ago(2 * time.Minute)), otp(ago(time.Minute))},
			level:     Substantial,
			amr:       []string{"pwd", "otp", "mfa"},
			picked:    []Event{pwd(ago(3 * time.Minute)), otp(ago(time.Minute))},
			authTime:  ago(time.Minute),
			satisfied: true,
		},
		{
			name:      "several passwords: the freshest",
			events:    []Event{pwd(ago(3 * time.Hour)), pwd(ago(time.Hour)), pwd(ago(2 * time.Hour))},
			level:     Low,
			amr:       []string{"pwd"},
			picked:    []Event{pwd(ago(time.Hour))},
			authTime:  ago(time.Hour),
			satisfied: true,
		},
		{
			name:      "several passwords and otps: the freshest of each",
			events:    []Event{pwd(ago(3 * time.Hour)), otp(ago(150 * time.Minute)), pwd(ago(30 * time.Minute)), otp(ago(10 * time.Minute)), otp(ago(20 * time.Minute))},
			idle:      10 * time.Minute,
			level:     Substantial,
			amr:       []string{"pwd", "otp", "mfa"},
			picked:    []Event{pwd(ago(30 * time.Minute)), otp(ago(10 * time.Minute))},
			authTime:  ago(10 * time.Minute),
			satisfied: true,
		},
		{
			name:      "equal auth time: fewer events",
			events:    []Event{pwd(ago(10 * time.Minute)), otp(ago(5 * time.Minute)), passkey(ago(5 * time.Minute))},
			level:     Substantial,
			amr:       []string{"swk", "user"},
			picked:    []Event{passkey(ago(5 * time.Minute))},
			authTime:  ago(5 * time.Minute),
			satisfied: true,
		},
		{
			name:      "later auth time beats fewer events",
			events:    []Event{passkey(ago(30 * time.Minute)), pwd(ago(10 * time.Minute)), otp(ago(5 * time.Minute))},
			level:     Substantial,
			amr:       []string{"pwd", "otp", "mfa"},
			picked:    []Event{pwd(ago(10 * time.Minute)), otp(ago(5 * time.Minute))},
			authTime:  ago(5 * time.Minute),
			satisfied: true,
		},
		{
			name:      "later single beats a pair",
			events:    []Event{pwd(ago(10 * time.Minute)), otp(ago(5 * time.Minute)), passkey(ago(time.Minute))},
			level:     Substantial,
			amr:       []string{"swk", "user"},
			picked:    []Event{passkey(ago(time.Minute))},
			authTime:  ago(time.Minute),
			satisfied: true,
		},
		{
			name: "levels outside 1..4 count for nothing",
			events: []Event{
				{Method: "pwd", AMR: []string{"pwd"}, Level: 0, Time: ago(time.Minute)},
				{Method: "x", AMR: []string{"x"}, Level: VeryHigh + 1, Time: ago(time.Minute)},
				{Method: "y", AMR: []string{"y"}, Level: -1, Time: ago(time.Minute)},
			},
			needFirst: true,
		},
		{
			name:      "nil limits are the defaults",
			events:    []Event{pwd(ago(25 * time.Hour)), otp(ago(25 * time.Hour))},
			idle:      25 * time.Hour,
			level:     Low,
			amr:       []string{"pwd"},
			picked:    []Event{pwd(ago(25 * time.Hour))},
			authTime:  ago(25 * time.Hour),
			satisfied: true,
		},
		{
			name:      "empty limits: none",
			events:    []Event{pwd(ago(2400 * time.Hour)), otp(ago(2400 * time.Hour))},
			idle:      2400 * time.Hour,
			limits:    Limits{},
			req:       Request{MinLevel: Substantial},
			level:     Substantial,
			amr:       []string{"pwd", "otp", "mfa"},
			picked:    []Event{pwd(ago(2400 * time.Hour)), otp(ago(2400 * time.Hour))},
			authTime:  ago(2400 * time.Hour),
			satisfied: true,
		},
		{
			name:      "negative limit: nothing meets it",
			events:    []Event{pwd(now), otp(now)},
			limits:    Limits{Substantial: {MaxAge: -1}},
			level:     Low,
			amr:       []string{"pwd"},
			picked:    []Event{pwd(now)},
			authTime:  now,
			satisfied: true,
		},
		{
			name:      "level 1 limit from configuration",
			events:    []Event{pwd(ago(9 * time.Hour))},
			limits:    Limits{Low: {MaxAge: 8 * time.Hour}},
			needFirst: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			last := now.Add(-tt.idle)
			if tt.zeroLast {
				last = time.Time{}
			}
			got := Evaluate(tt.events, last, tt.req, tt.limits, now)
			if got.Level != tt.level {
				t.Errorf("Level: got %d, want %d", got.Level, tt.level)
			}
			if !slices.EqualFunc(got.Events, tt.picked, eventEqual) {
				t.Errorf("Events: got %v, want %v", got.Events, tt.picked)
			}
			if tt.picked == nil && got.Events != nil {
				t.Errorf("Events: got %v, want nil", got.Events)
			}
			if !got.AuthTime.Equal(tt.authTime) {
				t.Errorf("AuthTime: got %v, want %v", got.AuthTime, tt.authTime)
			}
			if !slices.Equal(got.AMR, tt.amr) {
				t.Errorf("AMR: got %q, want %q", got.AMR, tt.amr)
			}
			if got.Satisfied != tt.satisfied {
				t.Errorf("Satisfied: got %v, want %v", got.Satisfied, tt.satisfied)
			}
			if got.NeedFirstFactor != tt.needFirst {
				t.Errorf("NeedFirstFactor: got %v, want %v", got.NeedFirstFactor, tt.needFirst)
			}
			if got.NeedSecondFactor != tt.needSecond {
				t.Errorf("NeedSecondFactor: got %v, want %v", got.NeedSecondFactor, tt.needSecond)
			}
		})
	}
}

func eventEqual(a, b Event) bool {
	return a.Method == b.Method && slices.Equal(a.AMR, b.AMR) && a.Level == b.Level &&
		a.SecondFactor == b.SecondFactor && a.Time.Equal(b.Time)
}

// TestEvaluateMinLevel walks MinLevel over 0..4 (and out of range) for a
// few sessions.
func TestEvaluateMinLevel(t *testing.T) {
	type want struct {
		satisfied, needFirst, needSecond bool
	}
	sessions := []struct {
		name   string
		events []Event
		level  Level
		want   map[Level]want
	}{
		{
			name:  "none",
			level: 0,
			want: map[Level]want{
				-1: {needFirst: true},
				0:  {needFirst: true},
				1:  {needFirst: true},
				2:  {needFirst: true, needSecond: true},
				3:  {},
				4:  {},
				5:  {},
			},
		},
		{
			name:   "password",
			events: []Event{pwd(ago(time.Minute))},
			level:  Low,
			want: map[Level]want{
				-1: {satisfied: true},
				0:  {satisfied: true},
				1:  {satisfied: true},
				2:  {needSecond: true},
				3:  {},
				4:  {},
				5:  {},
			},
		},
		{
			name:   "otp",
			events: []Event{otp(ago(time.Minute))},
			level:  0,
			want: map[Level]want{
				-1: {needFirst: true},
				0:  {needFirst: true},
				1:  {needFirst: true},
				2:  {needFirst: true},
				3:  {},
				4:  {},
				5:  {},
			},
		},
		{
			name:   "password and otp",
			events: []Event{pwd(ago(2 * time.Minute)), otp(ago(time.Minute))},
			level:  Substantial,
			want: map[Level]want{
				-1: {satisfied: true},
				0:  {satisfied: true},
				1:  {satisfied: true},
				2:  {satisfied: true},
				3:  {},
				4:  {},
				5:  {},
			},
		},
		{
			name:   "webauthn",
			events: []Event{webauthn(ago(time.Minute))},
			level:  High,
			want: map[Level]want{
				-1: {satisfied: true},
				0:  {satisfied: true},
				1:  {satisfied: true},
				2:  {satisfied: true},
				3:  {satisfied: true},
				4:  {},
				5:  {},
			},
		},
		{
			name:   "certificate",
			events: []Event{cert(ago(time.Minute))},
			level:  VeryHigh,
			want: map[Level]want{
				-1: {satisfied: true},
				0:  {satisfied: true},
				1:  {satisfied: true},
				2:  {satisfied: true},
				3:  {satisfied: true},
				4:  {satisfied: true},
				5:  {},
			},
		},
	}
	for _, s := range sessions {
		for minLevel := Level(-1); minLevel <= VeryHigh+1; minLevel++ {
			w := s.want[minLevel]
			got := Evaluate(s.events, now, Request{MinLevel: minLevel}, DefaultLimits(), now)
			if got.Level != s.level {
				t.Errorf("%s, MinLevel %d: Level: got %d, want %d", s.name, minLevel, got.Level, s.level)
			}
			g := want{got.Satisfied, got.NeedFirstFactor, got.NeedSecondFactor}
			if g != w {
				t.Errorf("%s, MinLevel %d: got %+v, want %+v", s.name, minLevel, g, w)
			}
		}
	}
}

func TestDefaultLimits(t *testing.T) {
	want := map[Level]Limit{
		Low:         {},
		Substantial: {MaxAge: 24 * time.Hour, Idle: time.Hour},
		High:        {MaxAge: 12 * time.Hour, Idle: 15 * time.Minute},
		VeryHigh:    {MaxAge: 12 * time.Hour, Idle: 15 * time.Minute},
	}
	got := DefaultLimits()
	if len(got) != len(want) {
		t.Errorf("got %d levels, want %d", len(got), len(want))
	}
	for l, w := range want {
		if got[l] != w {
			t.Errorf("level %d: got %+v, want %+v", l, got[l], w)
		}
	}
	// Each call is a fresh map: a caller's change does not leak.
	got[Substantial] = Limit{}
	if DefaultLimits()[Substantial] != want[Substantial] {
		t.Errorf("DefaultLimits shares its map between calls")
	}
}

// TestEvaluateDoesNotAlias checks that Result does not share memory with
// the events passed in.
func TestEvaluateDoesNotAlias(t *testing.T) {
	events := []Event{pwd(ago(2 * time.Minute)), otp(ago(time.Minute))}
	got := Evaluate(events, now, Request{}, nil, now)
	got.Events[0].AMR[0] = "changed"
	got.AMR[0] = "changed"
	if events[0].AMR[0] != AMRPassword {
		t.Errorf("input AMR: got %q, want %q", events[0].AMR[0], AMRPassword)
	}
}

// randomEvent draws an event of any kind at a time around now, on whole
// minutes so that limits are often hit exactly.
func randomEvent(r *rand.Rand, base time.Time) Event {
	kinds := []func(time.Time) Event{pwd, otp, securityKey, passkey, webauthn, cert, recovery}
	at := base.Add(time.Duration(r.IntN(50*60)-48*60) * time.Minute)
	if r.IntN(8) == 0 {
		at = at.Add(time.Duration(r.IntN(3)-1) * time.Nanosecond)
	}
	return kinds[r.IntN(len(kinds))](at)
}

// randomDuration is a duration up to limit minutes, sometimes off by 1ns.
func randomDuration(r *rand.Rand, limit int) time.Duration {
	d := time.Duration(r.IntN(limit+1)) * time.Minute
	if r.IntN(8) == 0 {
		d += time.Duration(r.IntN(3)-1) * time.Nanosecond
	}
	return max(d, 0)
}

// TestEvaluateProperties checks, for random sessions, that a level never
// rises while only the clock moves, and that Result is consistent with
// the rules it reports under.
func TestEvaluateProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(20250314, 1))
	limits := DefaultLimits()
	for iter := range 3000 {
		events := make([]Event, r.IntN(7))
		for i := range events {
			events[i] = randomEvent(r, now)
		}
		last := now.Add(-randomDuration(r, 3*60))
		var req Request
		req.MinLevel = Level(r.IntN(6))
		if r.IntN(3) == 0 {
			req.MaxAge = dur(randomDuration(r, 30*60))
		}
		if r.IntN(3) == 0 {
			req.ClientMaxAge = randomDuration(r, 30*60)
		}

		clock := now.Add(-time.Duration(r.IntN(2*60)) * time.Minute)
		prev := Level(VeryHigh + 1)
		for step := range 12 {
			got := Evaluate(events, last, req, limits, clock)
			where := fmt.Sprintf("iteration %d step %d (events %v, last %v, req %+v, now %v)", iter, step, events, last, req, clock)
			if got.Level > prev {
				t.Fatalf("%s: level rose from %d to %d as time passed", where, prev, got.Level)
			}
			prev = got.Level
			checkResult(t, where, events, last, req, limits, clock, got)
			clock = clock.Add(randomDuration(r, 12*60))
		}
	}
}

// checkResult verifies a Result against the rules, independently of how
// Evaluate finds it.
func checkResult(t *testing.T, where string, events []Event, last time.Time, req Request, limits Limits, clock time.Time, got Result) {
	t.Helper()
	if got.Level < 0 || got.Level > VeryHigh {
		t.Fatalf("%s: Level: got %d, want 0..4", where, got.Level)
	}
	if got.Level == 0 {
		if got.Events != nil || !got.AuthTime.IsZero() || got.AMR != nil {
			t.Fatalf("%s: level 0: got Events %v, AuthTime %v, AMR %v, want none", where, got.Events, got.AuthTime, got.AMR)
		}
	} else {
		lim := limits[got.Level]
		for _, e := range events {
			if e.Time.After(last) {
				last = e.Time
			}
		}
		if idle := clock.Sub(last); lim.Idle != 0 && idle > lim.Idle {
			t.Fatalf("%s: level %d reported after %v idle, limit %v", where, got.Level, idle, lim.Idle)
		}
		var latest time.Time
		for i, e := range got.Events {
			if e.Time.After(clock) {
				t.Fatalf("%s: event %d at %v, after now %v", where, i, e.Time, clock)
			}
			if i > 0 && e.Time.Before(got.Events[i-1].Time) {
				t.Fatalf("%s: Events not oldest first: %v", where, got.Events)
			}
			age := clock.Sub(e.Time)
			if lim.MaxAge != 0 && age > lim.MaxAge ||
				req.MaxAge != nil && age > *req.MaxAge ||
				req.ClientMaxAge != 0 && age > req.ClientMaxAge {
				t.Fatalf("%s: event %v (age %v) not fresh for level %d, request %+v", where, e, age, got.Level, req)
			}
			latest = e.Time
		}
		if !got.AuthTime.Equal(latest) {
			t.Fatalf("%s: AuthTime: got %v, want %v", where, got.AuthTime, latest)
		}
		switch len(got.Events) {
		case 1:
			e := got.Events[0]
			if e.SecondFactor || e.Level < got.Level || e.Method == MethodRecovery && got.Level > Low {
				t.Fatalf("%s: %v alone does not reach level %d", where, e, got.Level)
			}
		case 2:
			var first, second *Event
			for i := range got.Events {
				if got.Events[i].SecondFactor {
					second = &got.Events[i]
				} else {
					first = &got.Events[i]
				}
			}
			if first == nil || second == nil || first.Level != Low || first.Method == MethodRecovery || second.Level < got.Level {
				t.Fatalf("%s: %v do not reach level %d", where, got.Events, got.Level)
			}
		default:
			t.Fatalf("%s: got %d events, want 1 or 2", where, len(got.Events))
		}
		seen := map[string]bool{}
		for _, v := range got.AMR {
			if seen[v] {
				t.Fatalf("%s: AMR %q repeats %q", where, got.AMR, v)
			}
			seen[v] = true
		}
		if len(got.Events) > 1 && !seen[AMRMFA] {
			t.Fatalf("%s: AMR %q lacks mfa for %d events", where, got.AMR, len(got.Events))
		}
	}
	if want := oracle(events, last, req, limits, clock); got.Level != want.level ||
		len(got.Events) != want.n || !got.AuthTime.Equal(want.authTime) {
		t.Fatalf("%s: got level %d with %d events at %v, want level %d with %d events at %v",
			where, got.Level, len(got.Events), got.AuthTime, want.level, want.n, want.authTime)
	}
	minLevel := max(req.MinLevel, Low)
	if got.Satisfied != (got.Level >= minLevel) {
		t.Fatalf("%s: Satisfied: got %v with level %d for MinLevel %d", where, got.Satisfied, got.Level, req.MinLevel)
	}
	needs := got.NeedFirstFactor || got.NeedSecondFactor
	switch {
	case got.Satisfied || minLevel > Substantial:
		if needs {
			t.Fatalf("%s: got needs %v/%v, want none (satisfied %v, MinLevel %d)", where, got.NeedFirstFactor, got.NeedSecondFactor, got.Satisfied, req.MinLevel)
		}
	case !needs:
		t.Fatalf("%s: not satisfied at level %d for MinLevel %d, yet nothing needed", where, got.Level, req.MinLevel)
	case minLevel == Low && got.NeedSecondFactor:
		t.Fatalf("%s: second factor needed for MinLevel %d", where, req.MinLevel)
	}
}

// best is what the oracle finds: the highest level, and the size and
// AuthTime of the preferred set that reaches it.
type best struct {
	level    Level
	n        int
	authTime time.Time
}

// oracle tries every single event and every pair, straight from the rules
// of DESIGN.md, with none of Evaluate's shortcuts.
func oracle(events []Event, last time.Time, req Request, limits Limits, clock time.Time) best {
	at := func(e Event) time.Time {
		if e.Time.After(clock) {
			return clock
		}
		return e.Time
	}
	for _, e := range events {
		if e.Time.After(last) {
			last = e.Time
		}
	}
	fresh := func(l Level, set ...Event) bool {
		lim := limits[l]
		if lim.Idle != 0 && clock.Sub(last) > lim.Idle {
			return false
		}
		for _, e := range set {
			age := clock.Sub(at(e))
			if lim.MaxAge != 0 && age > lim.MaxAge ||
				req.MaxAge != nil && age > *req.MaxAge ||
				req.ClientMaxAge != 0 && age > req.ClientMaxAge {
				return false
			}
		}
		return true
	}
	levelOf := func(e Event) Level {
		if e.Method == MethodRecovery {
			return min(e.Level, Low)
		}
		return e.Level
	}
	for l := VeryHigh; l >= Low; l-- {
		var b best
		consider := func(set ...Event) {
			if !fresh(l, set...) {
				return
			}
			t := at(set[0])
			for _, e := range set[1:] {
				if at(e).After(t) {
					t = at(e)
				}
			}
			if b.n == 0 || t.After(b.authTime) || t.Equal(b.authTime) && len(set) < b.n {
				b = best{level: l, n: len(set), authTime: t}
			}
		}
		for _, e := range events {
			if !e.SecondFactor && levelOf(e) >= l {
				consider(e)
			}
		}
		for _, f := range events {
			if f.SecondFactor || f.Level != Low || f.Method == MethodRecovery {
				continue
			}
			for _, s := range events {
				if s.SecondFactor && levelOf(s) >= l {
					consider(f, s)
				}
			}
		}
		if b.n > 0 {
			return b
		}
	}
	return best{}
}

func BenchmarkEvaluate(b *testing.B) {
	events := []Event{
		pwd(ago(3 * time.Hour)),
		otp(ago(150 * time.Minute)),
		pwd(ago(20 * time.Minute)),
		otp(ago(10 * time.Minute)),
		webauthn(ago(2 * time.Hour)),
	}
	limits := DefaultLimits()
	req := Request{MinLevel: High, MaxAge: dur(time.Hour)}
	b.ReportAllocs()
	for b.Loop() {
		res := Evaluate(events, ago(5*time.Minute), req, limits, now)
		if res.Level != Substantial {
			b.Fatalf("Level: got %d, want %d", res.Level, Substantial)
		}
	}
}
