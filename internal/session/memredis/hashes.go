package memredis

// Hash commands.

import (
	"maps"
	"math"
	"slices"
	"strconv"
)

func hashOf(v *value) map[string]string { return v.hash }

func cmdHSet(s *Server, _ *client, a [][]byte) any {
	if len(a)%2 != 0 {
		return arityError("HSET")
	}
	key := string(a[1])
	v, e := s.create(key, kindHash)
	if e != nil {
		return e
	}
	var added int64
	for i := 2; i < len(a); i += 2 {
		f := string(a[i])
		if _, had := v.hash[f]; !had {
			added++
		}
		v.hash[f] = string(a[i+1])
	}
	s.touched(key)
	return added
}

func cmdHGet(s *Server, _ *client, a [][]byte) any {
	v, e := s.getKind(string(a[1]), kindHash)
	if e != nil || v == nil {
		return e
	}
	if f, ok := v.hash[string(a[2])]; ok {
		return f
	}
	return nil
}

func cmdHMGet(s *Server, _ *client, a [][]byte) any {
	v, e := s.getKind(string(a[1]), kindHash)
	if e != nil {
		return e
	}
	out := make([]any, len(a)-2)
	for i, f := range a[2:] {
		if v != nil {
			if x, ok := v.hash[string(f)]; ok {
				out[i] = x
			}
		}
	}
	return out
}

func cmdHGetAll(s *Server, _ *client, a [][]byte) any {
	v, e := s.getKind(string(a[1]), kindHash)
	if e != nil {
		return e
	}
	out := []string{}
	if v != nil {
		for _, f := range slices.Sorted(maps.Keys(v.hash)) {
			out = append(out, f, v.hash[f])
		}
	}
	return out
}

func cmdHIncrBy(s *Server, _ *client, a [][]byte) any {
	key, f := string(a[1]), string(a[2])
	by, err := strconv.ParseInt(string(a[3]), 10, 64)
	if err != nil {
		return errNotInt
	}
	v, e := s.create(key, kindHash)
	if e != nil {
		return e
	}
	var n int64
	if x, had := v.hash[f]; had {
		if n, err = strconv.ParseInt(x, 10, 64); err != nil {
			return errReply("ERR hash value is not an integer")
		}
	}
	if (by > 0 && n > math.MaxInt64-by) || (by < 0 && n < math.MinInt64-by) {
		return errReply("ERR increment or decrement would overflow")
	}
	n += by
	v.hash[f] = strconv.FormatInt(n, 10)
	s.touched(key)
	return n
}
