package password

import (
	"context"
	"testing"

	"github.com/citizenid/citizenid/internal/store"
)

// hashOnly is a store with one citizen's password hash.
type hashOnly struct{ Store }

func (hashOnly) PasswordHash(_ context.Context, citizenID string) (string, error) {
	if citizenID == "c1" {
		return "$argon2id$...", nil
	}
	return "", store.ErrNotFound
}

// What UseProvesOffer promises: to a citizen with a password, the offer
// is the offer to nobody.
func TestOfferToCitizenWithPasswordIsTraits(t *testing.T) {
	m := &Method{Store: hashOnly{}}
	ctx := context.Background()
	traits, err := m.Offer(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	has, err := m.Offer(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if has != traits {
		t.Fatalf("offer to a citizen with a password %+v, offer to nobody %+v: want the same", has, traits)
	}
	if none, _ := m.Offer(ctx, "c2"); none.Available {
		t.Fatalf("offer to a citizen without a password: %+v, want unavailable", none)
	}
}
