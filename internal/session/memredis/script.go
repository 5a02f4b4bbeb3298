package memredis

import (
	"crypto/sha1"
	"encoding/hex"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// luaEngine runs EVAL scripts. Scripts run under the server's lock, one
// at a time, so one Lua state serves them all; each run gets its own
// global table (KEYS, ARGV and whatever the script assigns), reading
// through to the shared libraries.
type luaEngine struct {
	s       *Server
	L       *lua.LState
	scripts map[string]*lua.FunctionProto // by SHA1 of the source, lower-case hex
	caller  *client                       // the connection whose script runs
	// readThrough is the metatable of each run's globals: it reads what
	// the run did not set from the shared ones. Made once: it never
	// changes.
	readThrough *lua.LTable
}

func newLuaEngine(s *Server) *luaEngine {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	// What base opens beyond Redis's sandbox: files and loading code.
	for _, name := range []string{"dofile", "loadfile", "load", "loadstring", "require", "module", "collectgarbage"} {
		L.SetGlobal(name, lua.LNil)
	}
	e := &luaEngine{s: s, L: L, scripts: map[string]*lua.FunctionProto{}}
	r := L.NewTable()
	L.SetFuncs(r, map[string]lua.LGFunction{
		"call":  func(L *lua.LState) int { return e.call(L, true) },
		"pcall": func(L *lua.LState) int { return e.call(L, false) },
		"error_reply": func(L *lua.LState) int {
			L.Push(field(L, "err", L.CheckString(1)))
			return 1
		},
		"status_reply": func(L *lua.LState) int {
			L.Push(field(L, "ok", L.CheckString(1)))
			return 1
		},
	})
	L.SetGlobal("redis", r)
	e.readThrough = L.CreateTable(0, 1)
	e.readThrough.RawSetString("__index", L.Get(lua.GlobalsIndex))
	return e
}

func (e *luaEngine) close() { e.L.Close() }

// field is the table {name = v}: a status or an error reply. Tables are
// made for what they hold: L.NewTable reserves 32 array and 32 hash
// slots, about 2 KB.
func field(L *lua.LState, name, v string) *lua.LTable {
	t := L.CreateTable(0, 1)
	t.RawSetString(name, lua.LString(v))
	return t
}

func scriptSHA(src []byte) string {
	h := sha1.Sum(src)
	return hex.EncodeToString(h[:])
}

// load compiles src and keeps it under its SHA1.
func (e *luaEngine) load(src []byte) (string, any) {
	sha := scriptSHA(src)
	if _, ok := e.scripts[sha]; ok {
		return sha, nil
	}
	chunk, err := parse.Parse(strings.NewReader(string(src)), "@user_script")
	if err != nil {
		return "", errorf("ERR Error compiling script (new function): %s", oneLine(err.Error()))
	}
	proto, err := lua.Compile(chunk, "@user_script")
	if err != nil {
		return "", errorf("ERR Error compiling script (new function): %s", oneLine(err.Error()))
	}
	// A chunk is a vararg function, and one that never reads its
	// varargs (a script's are KEYS and ARGV) would build Lua 5.0's
	// implicit arg table on every call, 2 KB for nothing. Redis runs a
	// script as a function without varargs, where arg is an unset global:
	// here it stays nil.
	proto.IsVarArg &^= lua.VarArgNeedsArg
	e.scripts[sha] = proto
	return sha, nil
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", " ") }

func cmdEval(s *Server, c *client, a [][]byte) any {
	sha, e := s.lua.load(a[1])
	if e != nil {
		return e
	}
	return s.lua.run(c, sha, a[2:])
}

func cmdEvalSHA(s *Server, c *client, a [][]byte) any {
	return s.lua.run(c, strings.ToLower(string(a[1])), a[2:])
}

func cmdScript(s *Server, _ *client, a [][]byte) any {
	switch strings.ToUpper(string(a[1])) {
	case "LOAD":
		if len(a) != 3 {
			return arityError("SCRIPT|LOAD")
		}
		sha, e := s.lua.load(a[2])
		if e != nil {
			return e
		}
		return sha
	case "EXISTS":
		out := make([]any, len(a)-2)
		for i, sha := range a[2:] {
			out[i] = int64(0)
			if _, ok := s.lua.scripts[strings.ToLower(string(sha))]; ok {
				out[i] = int64(1)
			}
		}
		return out
	case "FLUSH":
		clear(s.lua.scripts)
		return ok
	}
	return errorf("ERR unknown subcommand '%s'", printable(a[1]))
}

// run calls the script sha with numkeys, keys… and args… (EVAL's
// arguments after the script).
func (e *luaEngine) run(c *client, sha string, a [][]byte) any {
	proto, found := e.scripts[sha]
	if !found {
		return errReply("NOSCRIPT No matching script. Please use EVAL.")
	}
	numKeys, err := strconv.Atoi(string(a[0]))
	if err != nil || numKeys < 0 {
		return errReply("ERR value is not an integer or out of range")
	}
	if numKeys > len(a)-1 {
		return errReply("ERR Number of keys can't be greater than number of args")
	}
	L := e.L
	env := L.CreateTable(0, 2) // KEYS, ARGV
	L.SetMetatable(env, e.readThrough)
	keys, argv := L.CreateTable(numKeys, 0), L.CreateTable(len(a)-1-numKeys, 0)
	for i, k := range a[1 : 1+numKeys] {
		keys.RawSetInt(i+1, lua.LString(k))
	}
	for i, v := range a[1+numKeys:] {
		argv.RawSetInt(i+1, lua.LString(v))
	}
	env.RawSetString("KEYS", keys)
	env.RawSetString("ARGV", argv)
	fn := L.NewFunctionFromProto(proto)
	fn.Env = env
	e.caller = c
	defer func() { e.caller = nil }()
	top := L.GetTop()
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		L.SetTop(top)
		msg := err.Error()
		if ae, ok := err.(*lua.ApiError); ok {
			if t, ok := ae.Object.(*lua.LTable); ok {
				if e, ok := t.RawGetString("err").(lua.LString); ok {
					return errReply(oneLine(string(e))) // from redis.call
				}
			}
			msg = ae.Object.String()
		}
		return errorf("ERR Error running script (call to f_%s): %s", sha, oneLine(msg))
	}
	ret := L.Get(-1)
	L.SetTop(top)
	return fromLua(ret)
}

// call is redis.call (raise) and redis.pcall (return the error as a
// table): it runs a command inside the script, under the lock the script
// already holds.
func (e *luaEngine) call(L *lua.LState, raise bool) int {
	n := L.GetTop()
	if n == 0 {
		L.RaiseError("Please specify at least one argument for redis.call()")
	}
	args := make([][]byte, n)
	for i := range n {
		switch v := L.Get(i + 1).(type) {
		case lua.LString:
			args[i] = []byte(v)
		case lua.LNumber:
			args[i] = []byte(formatLuaNumber(float64(v)))
		default:
			L.RaiseError("Lua redis() command arguments must be strings or integers")
		}
	}
	name := strings.ToUpper(string(args[0]))
	cmd, found := commands[name]
	var reply any
	switch {
	case !found || name == "EVAL" || name == "EVALSHA" || name == "SCRIPT":
		reply = errReply("ERR Unknown Redis command called from Lua script")
	case !cmd.arityOK(n):
		reply = errReply("ERR Wrong number of args calling Redis command from script")
	default:
		reply = cmd.run(e.s, e.caller, args)
	}
	if er, isErr := reply.(errReply); isErr {
		t := field(L, "err", string(er))
		if raise {
			L.Error(t, 0) // the script fails with the command's own error
		}
		L.Push(t)
		return 1
	}
	L.Push(toLua(L, reply))
	return 1
}

// formatLuaNumber turns a number passed to redis.call into its argument
// the way Redis's Lua does (%.17g), which for the integers scripts pass
// (times in milliseconds, counters) is their decimal digits.
func formatLuaNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

// toLua converts a command's reply for the script, as Redis does: an
// integer to a number, a bulk string to a string, a null to false, an
// array to a table, a status to {ok=…}.
func toLua(L *lua.LState, r any) lua.LValue {
	switch r := r.(type) {
	case nil, nilArray:
		return lua.LFalse
	case int64:
		return lua.LNumber(r)
	case string:
		return lua.LString(r)
	case []byte:
		return lua.LString(r)
	case simple:
		return field(L, "ok", string(r))
	case []string:
		t := L.CreateTable(len(r), 0)
		for i, e := range r {
			t.RawSetInt(i+1, lua.LString(e))
		}
		return t
	case []any:
		t := L.CreateTable(len(r), 0)
		for i, e := range r {
			t.RawSetInt(i+1, toLua(L, e))
		}
		return t
	}
	return lua.LFalse
}

// fromLua converts a script's result to a reply, as Redis does: a number
// to an integer (truncated), a string to a bulk string, a table to an
// array up to its first nil (or {err=…}/{ok=…} to an error or status),
// true to 1, false and nil to a null.
func fromLua(v lua.LValue) any {
	switch v := v.(type) {
	case lua.LNumber:
		return int64(v)
	case lua.LString:
		return string(v)
	case lua.LBool:
		if v {
			return int64(1)
		}
		return nil
	case *lua.LTable:
		if e, ok := v.RawGetString("err").(lua.LString); ok {
			return errReply(e)
		}
		if s, ok := v.RawGetString("ok").(lua.LString); ok {
			return simple(s)
		}
		var out []any
		for i := 1; ; i++ {
			x := v.RawGetInt(i)
			if x == lua.LNil {
				break
			}
			out = append(out, fromLua(x))
		}
		if out == nil {
			out = []any{}
		}
		return out
	}
	return nil
}
