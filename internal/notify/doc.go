// Package notify sends citizens their messages — verification codes and
// notices of security changes — by email (SMTP) and SMS (an HTTP gateway
// of the kind Vietnamese brand-name SMS providers run), through a durable
// outbox: a citizen's action only queues a message (store.Outbox), in
// its own request, and a worker on every node delivers what is due, each
// message by one node at a time (a lease), with bounded retries and
// backoff. Delivery never blocks or fails the citizen's action.
//
// Messages are rendered when queued, from templates/notify/<lang>.txt
// (subjects, text bodies, SMS texts) and <lang>.html (HTML bodies),
// parsed at start: a missing message fails New. They never carry a
// password, a full citizen number or a link that logs in by itself.
//
// Without an SMTP server (or an SMS gateway) configured — the embedded
// default, dev mode — the worker writes each message to the server log,
// marked "dev mode: message not sent", and counts it delivered.
//
// It does not decide who is told what: the account pages, the console
// and the audit-log observer do.
package notify
