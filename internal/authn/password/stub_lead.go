package password

// TEMPORARY stand-in until the rules branch merges.

type Policy struct{ MinLength int }
type Personal struct{ Number, Name, Birthdate string }

func (p Policy) Reason(pw string, personal Personal) string { return "" }
