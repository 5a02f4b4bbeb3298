package ui

import (
	"errors"
	"fmt"
	"html/template"
	"text/template/parse"
)

// TemplateKeys returns the message keys the templates of t name, each
// with the template that names it: field accesses on the page's
// catalogue ({{.T.key}}, {{$.T.key}}) and string arguments of the t
// function ({{t $.Lang "key"}}). A key a template computes goes through
// the t function, which the renderer makes log an unknown key and show
// it; indexing the catalogue ({{index .T .X}}) is refused, because it
// would render an unknown key as nothing.
func TemplateKeys(t *template.Template) (map[string][]string, error) {
	keys := map[string][]string{}
	var errs []error
	for _, tt := range t.Templates() {
		if tt.Tree == nil || tt.Tree.Root == nil {
			continue
		}
		w := walker{name: tt.Name(), keys: keys}
		w.node(tt.Tree.Root)
		errs = append(errs, w.errs...)
	}
	return keys, errors.Join(errs...)
}

type walker struct {
	name string
	keys map[string][]string
	errs []error
}

func (w *walker) add(key string) {
	for _, n := range w.keys[key] {
		if n == w.name {
			return
		}
	}
	w.keys[key] = append(w.keys[key], w.name)
}

func (w *walker) node(n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			w.node(c)
		}
	case *parse.ActionNode:
		w.pipe(n.Pipe)
	case *parse.IfNode:
		w.branch(&n.BranchNode)
	case *parse.RangeNode:
		w.branch(&n.BranchNode)
	case *parse.WithNode:
		w.branch(&n.BranchNode)
	case *parse.TemplateNode:
		w.pipe(n.Pipe)
	}
}

func (w *walker) branch(b *parse.BranchNode) {
	w.pipe(b.Pipe)
	w.node(b.List)
	w.node(b.ElseList)
}

func (w *walker) pipe(p *parse.PipeNode) {
	if p == nil {
		return
	}
	for i, cmd := range p.Cmds {
		w.command(cmd, i > 0)
	}
}

// command checks one command; piped says the previous command's value
// is its last argument.
func (w *walker) command(cmd *parse.CommandNode, piped bool) {
	if len(cmd.Args) > 0 {
		if id, ok := cmd.Args[0].(*parse.IdentifierNode); ok {
			switch id.Ident {
			case "index":
				if len(cmd.Args) > 1 && isCatalogue(cmd.Args[1]) {
					w.errs = append(w.errs, fmt.Errorf("template %s: %s indexes the catalogue; use {{t $.Lang key}} for a computed key", w.name, cmd))
				}
			case "t":
				switch {
				case len(cmd.Args) == 3 && !piped:
					if s, ok := cmd.Args[2].(*parse.StringNode); ok {
						w.add(s.Text)
					}
				case len(cmd.Args) == 2 && piped: // the key is computed
				default:
					w.errs = append(w.errs, fmt.Errorf("template %s: %s: t takes a language and a key", w.name, cmd))
				}
			}
		}
	}
	for _, arg := range cmd.Args {
		w.arg(arg)
	}
}

func (w *walker) arg(n parse.Node) {
	switch n := n.(type) {
	case *parse.FieldNode: // .T.key
		if len(n.Ident) >= 2 && n.Ident[0] == "T" {
			w.add(n.Ident[1])
		}
	case *parse.VariableNode: // $.T.key
		if len(n.Ident) >= 3 && n.Ident[0] == "$" && n.Ident[1] == "T" {
			w.add(n.Ident[2])
		}
	case *parse.PipeNode:
		w.pipe(n)
	case *parse.ChainNode:
		w.arg(n.Node)
	}
}

// isCatalogue reports whether n is the page's catalogue itself: .T or $.T.
func isCatalogue(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.FieldNode:
		return len(n.Ident) == 1 && n.Ident[0] == "T"
	case *parse.VariableNode:
		return len(n.Ident) == 2 && n.Ident[0] == "$" && n.Ident[1] == "T"
	}
	return false
}
