package schedules

import (
	"errors"
	"fmt"
	"text/template"
	"text/template/parse"
)

// checkTemplate enforces the rules in the RenderData comment.
func checkTemplate(t *template.Template) error {
	if len(t.Templates()) > 1 {
		return errors.New("define and block are not allowed in post templates")
	}
	if t.Tree == nil {
		return nil
	}
	return checkNode(t.Tree.Root)
}

func checkNode(n parse.Node) error {
	switch n := n.(type) {
	case nil, *parse.TextNode, *parse.CommentNode:
		return nil
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkNode(c); err != nil {
				return err
			}
		}
		return nil
	case *parse.ActionNode:
		return checkPipe(n.Pipe)
	case *parse.IfNode:
		return checkBranch(&n.BranchNode)
	case *parse.WithNode:
		return checkBranch(&n.BranchNode)
	case *parse.RangeNode:
		return errors.New("range is not allowed in post templates")
	case *parse.TemplateNode:
		return errors.New("template and block are not allowed in post templates")
	}
	return fmt.Errorf("%s is not allowed in post templates", n)
}

func checkBranch(b *parse.BranchNode) error {
	if err := checkPipe(b.Pipe); err != nil {
		return err
	}
	if err := checkNode(b.List); err != nil {
		return err
	}
	if b.ElseList != nil {
		return checkNode(b.ElseList)
	}
	return nil
}

func checkPipe(p *parse.PipeNode) error {
	if p == nil {
		return nil
	}
	for i, cmd := range p.Cmds {
		if err := checkCommand(cmd, i > 0); err != nil {
			return err
		}
	}
	return nil
}

// checkCommand rejects a method call whose arguments are not literals,
// since feeding one method's output into another (.Planned.Format applied
// to its own result, through a variable or a pipeline) grows text
// exponentially.
func checkCommand(c *parse.CommandNode, piped bool) error {
	for _, a := range c.Args {
		if err := checkArg(a); err != nil {
			return err
		}
	}
	if len(c.Args) == 0 || !isFieldAccess(c.Args[0]) || len(c.Args) == 1 && !piped {
		return nil
	}
	for _, a := range c.Args[1:] {
		switch a.(type) {
		case *parse.StringNode, *parse.NumberNode, *parse.BoolNode:
		default:
			return fmt.Errorf("%s: arguments of a method call must be literals, not %s", c, a)
		}
	}
	if piped {
		return fmt.Errorf("%s: a method call cannot take piped input", c)
	}
	return nil
}

func checkArg(a parse.Node) error {
	switch a := a.(type) {
	case *parse.PipeNode:
		return checkPipe(a)
	case *parse.ChainNode:
		return checkArg(a.Node)
	}
	return nil
}

func isFieldAccess(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.FieldNode:
		return true
	case *parse.ChainNode:
		return len(n.Field) > 0
	case *parse.VariableNode:
		return len(n.Ident) > 1
	}
	return false
}
