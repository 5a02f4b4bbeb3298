package memredis

// Sorted-set commands: members scored by a float, ranges by score or rank.

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
)

func zsetOf(v *value) map[string]float64 { return v.zset }

// cmdZAdd is ZADD key score member [score member …]; none of ZADD's
// options is needed here, so they are refused.
func cmdZAdd(s *Server, _ *client, a [][]byte) any {
	if len(a)%2 != 0 {
		return errSyntax
	}
	scores := make([]float64, 0, (len(a)-2)/2)
	for i := 2; i < len(a); i += 2 {
		f, err := parseScore(a[i])
		if err != nil {
			return errNotFloat
		}
		scores = append(scores, f)
	}
	key := string(a[1])
	v, e := s.create(key, kindZSet)
	if e != nil {
		return e
	}
	var added int64
	for i, f := range scores {
		m := string(a[3+2*i])
		if _, had := v.zset[m]; !had {
			added++
		}
		v.zset[m] = f
	}
	s.touched(key)
	return added
}

func parseScore(b []byte) (float64, error) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err == nil && math.IsNaN(f) {
		err = strconv.ErrSyntax
	}
	return f, err
}

func cmdZScore(s *Server, _ *client, a [][]byte) any {
	v, e := s.getKind(string(a[1]), kindZSet)
	if e != nil || v == nil {
		return e
	}
	if f, ok := v.zset[string(a[2])]; ok {
		return formatScore(f)
	}
	return nil
}

func formatScore(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

// scoreRange is a ZCOUNT or ZRANGE BYSCORE bound pair: "(" makes a bound
// exclusive, "-inf" and "+inf" are open.
type scoreRange struct {
	min, max       float64
	minExcl, maxEx bool
}

func parseBound(b []byte) (f float64, excl bool, err error) {
	if len(b) > 0 && b[0] == '(' {
		excl, b = true, b[1:]
	}
	f, err = parseScore(b)
	return f, excl, err
}

func parseRange(lo, hi []byte) (scoreRange, any) {
	var r scoreRange
	var err1, err2 error
	r.min, r.minExcl, err1 = parseBound(lo)
	r.max, r.maxEx, err2 = parseBound(hi)
	if err1 != nil || err2 != nil {
		return r, errReply("ERR min or max is not a float")
	}
	return r, nil
}

func (r scoreRange) has(f float64) bool {
	return (f > r.min || (!r.minExcl && f == r.min)) && (f < r.max || (!r.maxEx && f == r.max))
}

func cmdZCount(s *Server, _ *client, a [][]byte) any {
	r, e := parseRange(a[2], a[3])
	if e != nil {
		return e
	}
	v, e := s.getKind(string(a[1]), kindZSet)
	if e != nil {
		return e
	}
	var n int64
	if v != nil {
		for _, f := range v.zset {
			if r.has(f) {
				n++
			}
		}
	}
	return n
}

type member struct {
	name  string
	score float64
}

func byScore(x, y member) int {
	return cmp.Or(cmp.Compare(x.score, y.score), strings.Compare(x.name, y.name))
}

// cmdZRange is ZRANGE key start stop [BYSCORE] [LIMIT offset count]
// [WITHSCORES]: by rank, or by score with an optional LIMIT.
func cmdZRange(s *Server, _ *client, a [][]byte) any {
	var byScoreOpt, withScores, limit bool
	var offset, count int64 = 0, -1
	for i := 4; i < len(a); i++ {
		switch strings.ToUpper(string(a[i])) {
		case "BYSCORE":
			byScoreOpt = true
		case "WITHSCORES":
			withScores = true
		case "LIMIT":
			if i+2 >= len(a) {
				return errSyntax
			}
			var err1, err2 error
			offset, err1 = strconv.ParseInt(string(a[i+1]), 10, 64)
			count, err2 = strconv.ParseInt(string(a[i+2]), 10, 64)
			if err1 != nil || err2 != nil {
				return errNotInt
			}
			limit, i = true, i+2
		default:
			return errSyntax
		}
	}
	if limit && !byScoreOpt {
		return errReply("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
	}
	// Both forms parse their range before the key is looked up: Redis
	// reports a malformed range ahead of WRONGTYPE.
	r := scoreRange{min: math.Inf(-1), max: math.Inf(1)}
	var start, stop int64
	if byScoreOpt {
		var e any
		if r, e = parseRange(a[2], a[3]); e != nil {
			return e
		}
	} else {
		var err1, err2 error
		start, err1 = strconv.ParseInt(string(a[2]), 10, 64)
		stop, err2 = strconv.ParseInt(string(a[3]), 10, 64)
		if err1 != nil || err2 != nil {
			return errNotInt
		}
	}
	v, e := s.getKind(string(a[1]), kindZSet)
	if e != nil {
		return e
	}
	var members []member
	if v != nil {
		for m, f := range v.zset {
			if r.has(f) {
				members = append(members, member{m, f})
			}
		}
	}
	slices.SortFunc(members, byScore)
	if byScoreOpt {
		if offset < 0 {
			members = nil
		} else {
			members = members[min(offset, int64(len(members))):]
		}
		if count >= 0 && count < int64(len(members)) {
			members = members[:count]
		}
	} else {
		n := int64(len(members))
		if start < 0 {
			start = max(n+start, 0)
		}
		if stop < 0 {
			stop = n + stop
		}
		stop = min(stop, n-1)
		if start > stop {
			members = nil
		} else {
			members = members[start : stop+1]
		}
	}
	out := make([]string, 0, len(members))
	for _, m := range members {
		out = append(out, m.name)
		if withScores {
			out = append(out, formatScore(m.score))
		}
	}
	return out
}
