package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"time"
)

// auditHashDomain separates this hash from any other SHA-256 use and names
// the encoding version; change it only together with the encoding.
const auditHashDomain = "citizenid/audit/v1"

// AuditHash returns the hex SHA-256 that links e to the event before it,
// whose hash is prev ("" for the first event).
//
// The input is an unambiguous encoding: every field is written as an 8-byte
// big-endian length followed by its bytes, in this order: a domain tag,
// prev, Seq (decimal), Time (UTC, rounded to TimePrecision, RFC 3339 with
// nanoseconds), Actor, Action, Target, Outcome, ClientIP, the number of
// Details entries (decimal), then each key and value with keys sorted.
// PrevHash and Hash of e are not part of the input. A nil and an empty
// Details hash alike.
func AuditHash(prev string, e *AuditEvent) string {
	h := sha256.New()
	write := func(s string) { writeField(h, s) }
	write(auditHashDomain)
	write(prev)
	write(strconv.FormatInt(e.Seq, 10))
	write(e.Time.Round(TimePrecision).UTC().Format(time.RFC3339Nano))
	write(e.Actor)
	write(e.Action)
	write(e.Target)
	write(e.Outcome)
	write(e.ClientIP)
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	write(strconv.Itoa(len(keys)))
	for _, k := range keys {
		write(k)
		write(e.Details[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeField(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// AuditChainError reports the first event at which a chain fails to verify.
type AuditChainError struct {
	Seq    int64  // the first broken event
	Reason string // what is wrong with it
}

func (e *AuditChainError) Error() string {
	return fmt.Sprintf("audit chain broken at seq %d: %s", e.Seq, e.Reason)
}

// VerifyAuditChain checks that events, a contiguous run of the log in Seq
// order as ListAudit returns it without filters, form an unbroken chain:
// each Hash is AuditHash(PrevHash, event), each PrevHash is the previous
// event's Hash, Seq increases by exactly one, and an event with Seq 1 has
// an empty PrevHash. The first event's PrevHash is otherwise taken on trust,
// so a run starting mid-log verifies on its own. It returns nil or an
// *AuditChainError naming the first broken Seq.
func VerifyAuditChain(events []AuditEvent) error {
	for i := range events {
		e := &events[i]
		if i == 0 {
			if e.Seq < 1 {
				return &AuditChainError{Seq: e.Seq, Reason: "seq is not positive"}
			}
			if e.Seq == 1 && e.PrevHash != "" {
				return &AuditChainError{Seq: e.Seq, Reason: "first event has a prev hash"}
			}
		} else {
			prev := &events[i-1]
			if e.Seq != prev.Seq+1 {
				return &AuditChainError{Seq: e.Seq, Reason: fmt.Sprintf("seq follows %d", prev.Seq)}
			}
			if e.PrevHash != prev.Hash {
				return &AuditChainError{Seq: e.Seq, Reason: fmt.Sprintf("prev hash does not match the hash of seq %d", prev.Seq)}
			}
		}
		if e.Hash != AuditHash(e.PrevHash, e) {
			return &AuditChainError{Seq: e.Seq, Reason: "hash does not match the event"}
		}
	}
	return nil
}
