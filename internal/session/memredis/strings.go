package memredis

// String commands: GET, SET and its options, GETDEL, INCR.

import (
	"math"
	"strconv"
	"strings"
)

func cmdGet(s *Server, _ *client, a [][]byte) any {
	v, e := s.getKind(string(a[1]), kindString)
	if e != nil || v == nil {
		return e
	}
	return v.str
}

// cmdMGet is MGET: each key's value, nil for a key that is absent or
// not a string (Redis answers no WRONGTYPE here).
func cmdMGet(s *Server, _ *client, a [][]byte) any {
	out := make([]any, len(a)-1)
	for i, k := range a[1:] {
		if v := s.get(string(k)); v != nil && v.kind == kindString {
			out[i] = v.str
		}
	}
	return out
}

func cmdGetDel(s *Server, _ *client, a [][]byte) any {
	key := string(a[1])
	v, e := s.getKind(key, kindString)
	if e != nil || v == nil {
		return e
	}
	s.remove(key)
	return v.str
}

// cmdSet is SET key value [NX|XX] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] [GET].
func cmdSet(s *Server, _ *client, a [][]byte) any {
	key := string(a[1])
	var nx, xx, keep, get bool
	var exp int64
	now := s.now().UnixMilli()
	for i := 3; i < len(a); i++ {
		opt := strings.ToUpper(string(a[i]))
		switch opt {
		case "NX":
			nx = true
		case "XX":
			xx = true
		case "KEEPTTL":
			keep = true
		case "GET":
			get = true
		case "EX", "PX", "EXAT", "PXAT":
			if i+1 == len(a) || exp != 0 {
				return errSyntax
			}
			i++
			n, err := strconv.ParseInt(string(a[i]), 10, 64)
			if err != nil {
				return errNotInt
			}
			if n <= 0 || n > math.MaxInt64/1000 {
				return errorf("ERR invalid expire time in '%s' command", "set")
			}
			switch opt {
			case "EX":
				exp = now + n*1000
			case "PX":
				exp = now + n
			case "EXAT":
				exp = n * 1000
			case "PXAT":
				exp = n
			}
		default:
			return errSyntax
		}
	}
	if (nx && xx) || (keep && exp != 0) {
		return errSyntax
	}
	old := s.get(key)
	var prev any
	if get {
		if old != nil && old.kind != kindString {
			return errWrongType
		}
		if old != nil {
			prev = old.str
		}
	}
	if (nx && old != nil) || (xx && old == nil) {
		return prev // nil unless GET
	}
	if keep && old != nil {
		exp = old.exp
	}
	s.put(key, &value{kind: kindString, str: string(a[2]), exp: exp})
	s.touched(key)
	if get {
		return prev
	}
	return ok
}

func cmdIncrBy(s *Server, _ *client, a [][]byte) any {
	n, err := strconv.ParseInt(string(a[2]), 10, 64)
	if err != nil {
		return errNotInt
	}
	return incrBy(s, string(a[1]), n)
}

func incrBy(s *Server, key string, by int64) any {
	v, e := s.getKind(key, kindString)
	if e != nil {
		return e
	}
	var n int64
	if v != nil {
		var err error
		if n, err = strconv.ParseInt(v.str, 10, 64); err != nil {
			return errNotInt
		}
	}
	if (by > 0 && n > math.MaxInt64-by) || (by < 0 && n < math.MinInt64-by) {
		return errReply("ERR increment or decrement would overflow")
	}
	n += by
	if v == nil {
		v = &value{kind: kindString}
		s.put(key, v)
	}
	v.str = strconv.FormatInt(n, 10)
	s.touched(key)
	return n
}
