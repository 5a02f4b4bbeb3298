package assurance

import (
	"slices"
	"time"
)

// MethodRecovery is the Method of an event made with a recovery code.
// Recovery codes restore access but never raise a level above 1
// (DESIGN.md): Evaluate counts such an event at level 1 at most, whatever
// its Level says, and never pairs it with a second factor.
const MethodRecovery = "recovery"

// Event is one authentication that happened in a session.
type Event struct {
	Method string   // identifies the authenticator kind: "pwd", "otp", "recovery", "webauthn", "cert", ...
	AMR    []string // RFC 8176 values this event contributes, e.g. ["pwd"], ["otp"], ["hwk","user","mfa"]
	Level  Level    // level this event reaches: alone, or (SecondFactor) together with a fresh first factor
	// SecondFactor: reaches Level only together with a fresh first-factor
	// event (a Level-1, non-second-factor event) in the same evaluation.
	SecondFactor bool
	Time         time.Time
}

// Limit is how long a level lasts: MaxAge since the authentication, Idle
// since the last activity. Zero means no limit; a negative duration is a
// limit nothing meets.
type Limit struct{ MaxAge, Idle time.Duration }

// Limits holds the Limit of each level; a level without an entry has no
// limits.
type Limits map[Level]Limit

// DefaultLimits are the limits of NIST SP 800-63B: level 1 none (the SSO
// session's own timeouts apply), level 2 24 h or 1 h idle, levels 3 and 4
// 12 h or 15 min idle.
func DefaultLimits() Limits {
	return Limits{
		Low:         {},
		Substantial: {MaxAge: 24 * time.Hour, Idle: time.Hour},
		High:        {MaxAge: 12 * time.Hour, Idle: 15 * time.Minute},
		VeryHigh:    {MaxAge: 12 * time.Hour, Idle: 15 * time.Minute},
	}
}

// Request is what a protocol request asks.
type Request struct {
	MinLevel     Level          // 0 or 1: any login
	MaxAge       *time.Duration // OIDC max_age: events older than this do not count; nil: none
	ClientMaxAge time.Duration  // the client's configured maximum authentication age; 0: none
}

// Result is what a session still holds for one request.
type Result struct {
	Level     Level     // highest level still true for this request (0: none)
	Events    []Event   // the events that make up Level, oldest first; nil when Level is 0
	AuthTime  time.Time // time of the latest event in Events (zero when Level is 0)
	AMR       []string  // union of Events' AMR in order, plus "mfa" when Events holds two or more events; no duplicates
	Satisfied bool      // Level >= MinLevel (MinLevel 0 counts as 1)
	// What the login flow must still ask to reach MinLevel along the
	// password + second factor path (levels 1 and 2). Both are false when
	// Satisfied, and when MinLevel >= 3 (those levels need a single strong
	// authenticator; the caller decides).
	NeedFirstFactor  bool // no first-factor event counts for MinLevel's limits and the request's ages
	NeedSecondFactor bool // MinLevel >= 2 and no event of level >= 2 counts
}

// Evaluate decides the level a session still holds for a request, and what
// is missing to reach the request's minimum. It is pure: now is the clock.
//
// lastActivity is the session's last activity before this request (the
// caller passes max(previous request time, latest event time); Evaluate
// also takes the latest event time into account itself).
//
// Level L holds when some set of events reaches L and every event in it is
// fresh for L: no older than limits[L].MaxAge, *req.MaxAge and
// req.ClientMaxAge, with now - lastActivity no more than limits[L].Idle.
// Boundaries are inclusive. A non-second-factor event reaches its Level and
// every lower one alone; a second-factor event reaches them only together
// with a first factor (a level-1, non-second-factor event, not a recovery
// code) fresh under the same limits. Events whose Level is outside 1..4
// count for nothing. When several sets reach the same level the one with
// the latest AuthTime wins, then the one with fewer events. Events in the
// future count as made now, and are reported with time now.
//
// A nil limits means DefaultLimits; pass an empty Limits for none.
func Evaluate(events []Event, lastActivity time.Time, req Request, limits Limits, now time.Time) Result {
	if limits == nil {
		limits = DefaultLimits()
	}
	last := lastActivity
	for i := range events {
		if events[i].Time.After(last) {
			last = events[i].Time
		}
	}
	ev := evaluation{now: now, idle: max(now.Sub(last), 0), req: req, limits: limits}

	var res Result
	for l := VeryHigh; l >= Low; l-- {
		if set, n := ev.best(events, l); n > 0 {
			res = ev.result(events, l, set[:n])
			break
		}
	}

	minLevel := max(req.MinLevel, Low)
	res.Satisfied = res.Level >= minLevel
	if !res.Satisfied && minLevel <= Substantial {
		res.NeedFirstFactor = !ev.counts(events, minLevel, isFirstFactor)
		if minLevel >= Substantial {
			res.NeedSecondFactor = !ev.counts(events, minLevel, func(e *Event) bool {
				return effectiveLevel(e) >= Substantial
			})
		}
	}
	return res
}

// evaluation holds what Evaluate measures freshness against.
type evaluation struct {
	now    time.Time
	idle   time.Duration // since the last activity, never negative
	req    Request
	limits Limits
}

// effectiveLevel is the level an event can reach: 0 outside 1..4, at most 1
// for a recovery code.
func effectiveLevel(e *Event) Level {
	switch {
	case e.Level < Low || e.Level > VeryHigh:
		return 0
	case e.Method == MethodRecovery:
		return Low
	}
	return e.Level
}

// isFirstFactor reports whether e can complete a second factor.
func isFirstFactor(e *Event) bool {
	return !e.SecondFactor && e.Level == Low && e.Method != MethodRecovery
}

// at is the time an event counts as made: never after now.
func (ev *evaluation) at(e *Event) time.Time {
	if e.Time.After(ev.now) {
		return ev.now
	}
	return e.Time
}

// holds reports whether level l survives the time since the last activity.
func (ev *evaluation) holds(l Level) bool {
	idle := ev.limits[l].Idle
	return idle == 0 || ev.idle <= idle
}

// fresh reports whether e is young enough for level l and the request.
func (ev *evaluation) fresh(e *Event, l Level) bool {
	age := ev.now.Sub(ev.at(e))
	if m := ev.limits[l].MaxAge; m != 0 && age > m {
		return false
	}
	if ev.req.MaxAge != nil && age > *ev.req.MaxAge {
		return false
	}
	if m := ev.req.ClientMaxAge; m != 0 && age > m {
		return false
	}
	return true
}

// counts reports whether some event that matches ok counts for level l.
func (ev *evaluation) counts(events []Event, l Level, ok func(*Event) bool) bool {
	if !ev.holds(l) {
		return false
	}
	for i := range events {
		if ok(&events[i]) && ev.fresh(&events[i], l) {
			return true
		}
	}
	return false
}

// best finds the preferred set of events that reaches level l: the indexes
// in set[:n], n == 0 when none does. Among equally fresh candidates the
// earliest in events wins, so the choice is deterministic.
func (ev *evaluation) best(events []Event, l Level) (set [2]int, n int) {
	if !ev.holds(l) {
		return set, 0
	}
	single, first, second := -1, -1, -1
	newer := func(i, j int) bool { return j < 0 || ev.at(&events[i]).After(ev.at(&events[j])) }
	for i := range events {
		e := &events[i]
		if !ev.fresh(e, l) {
			continue
		}
		reaches := effectiveLevel(e) >= l
		switch {
		case e.SecondFactor:
			if reaches && newer(i, second) {
				second = i
			}
		default:
			if reaches && newer(i, single) {
				single = i
			}
			if isFirstFactor(e) && newer(i, first) {
				first = i
			}
		}
	}
	if first >= 0 && second >= 0 {
		// The freshest first factor with the freshest second factor has the
		// latest AuthTime of all pairs, and the freshest oldest event too.
		pairTime := ev.at(&events[first])
		if t := ev.at(&events[second]); t.After(pairTime) {
			pairTime = t
		}
		if single < 0 || pairTime.After(ev.at(&events[single])) {
			return [2]int{first, second}, 2
		}
	}
	if single >= 0 {
		return [2]int{single}, 1
	}
	return set, 0
}

// result reports level l as reached by the events at idx (a first factor
// before its second factor).
func (ev *evaluation) result(events []Event, l Level, idx []int) Result {
	res := Result{Level: l, Events: make([]Event, 0, len(idx))}
	for _, i := range idx {
		e := events[i]
		e.Time = ev.at(&e)
		e.AMR = slices.Clone(e.AMR)
		res.Events = append(res.Events, e)
	}
	// Stable: at equal times the first factor stays first.
	slices.SortStableFunc(res.Events, func(a, b Event) int { return a.Time.Compare(b.Time) })
	res.AuthTime = res.Events[len(res.Events)-1].Time
	parts := make([][]string, 0, len(res.Events))
	for _, e := range res.Events {
		parts = append(parts, e.AMR)
	}
	res.AMR = AMR(parts...)
	if len(res.Events) > 1 && !slices.Contains(res.AMR, AMRMFA) {
		res.AMR = append(res.AMR, AMRMFA)
	}
	return res
}

// Decayed is what an event of level l still proves after idle without
// activity: the highest level at most l whose idle limit has not lapsed
// (0 when none has). Idle limits are measured at each request from the
// last activity before it; the login flow records a decayed level for
// good, so that activity never revives it (DESIGN.md).
func Decayed(l Level, idle time.Duration, limits Limits) Level {
	for ; l >= Low; l-- {
		if lim := limits[l]; lim.Idle == 0 || idle <= lim.Idle {
			return l
		}
	}
	return 0
}
