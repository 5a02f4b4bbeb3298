package memredis

// Set commands.

import (
	"maps"
	"slices"
)

func setOf(v *value) map[string]struct{} { return v.set }

func cmdSAdd(s *Server, _ *client, a [][]byte) any {
	key := string(a[1])
	v, e := s.create(key, kindSet)
	if e != nil {
		return e
	}
	var n int64
	for _, m := range a[2:] {
		if _, had := v.set[string(m)]; !had {
			v.set[string(m)] = struct{}{}
			n++
		}
	}
	s.touched(key)
	return n
}

func cmdSMembers(s *Server, _ *client, a [][]byte) any {
	v, e := s.getKind(string(a[1]), kindSet)
	if e != nil {
		return e
	}
	out := []string{}
	if v != nil {
		out = slices.Sorted(maps.Keys(v.set))
	}
	return out
}

func cmdSIsMember(s *Server, _ *client, a [][]byte) any {
	v, e := s.getKind(string(a[1]), kindSet)
	if e != nil {
		return e
	}
	if v != nil {
		if _, ok := v.set[string(a[2])]; ok {
			return int64(1)
		}
	}
	return int64(0)
}
