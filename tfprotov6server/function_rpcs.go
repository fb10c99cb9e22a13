package tfprotov6server

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// This file turns function RPCs into calls on a function: it decodes the arguments by
// the parameters' types, routes by name and encodes the result. A failure is a
// function error, never a gRPC error.

// GetFunctions returns every function's signature and documentation.
func (s *Server) GetFunctions(context.Context, *tfprotov6.GetFunctionsRequest) (*tfprotov6.GetFunctionsResponse, error) {
	resp := &tfprotov6.GetFunctionsResponse{Functions: map[string]*tfprotov6.Function{}}
	for name, f := range s.functions {
		resp.Functions[name] = f.definition()
	}
	return resp, nil
}

// CallFunction runs a function; it needs no configured provider.
func (s *Server) CallFunction(ctx context.Context, req *tfprotov6.CallFunctionRequest) (*tfprotov6.CallFunctionResponse, error) {
	f, ok := s.functions[req.Name]
	if !ok {
		return &tfprotov6.CallFunctionResponse{Error: &tfprotov6.FunctionError{Text: fmt.Sprintf("The imagesync provider has no function %q.", req.Name)}}, nil
	}
	def := f.definition()
	if len(req.Arguments) != len(def.Parameters) {
		return &tfprotov6.CallFunctionResponse{Error: functionBug(fmt.Errorf("%s takes %d arguments, got %d", req.Name, len(def.Parameters), len(req.Arguments)))}, nil
	}
	args := make([]tftypes.Value, len(req.Arguments))
	for i, dv := range req.Arguments {
		v, err := dv.Unmarshal(def.Parameters[i].Type)
		if err != nil {
			return &tfprotov6.CallFunctionResponse{Error: functionBug(fmt.Errorf("decode argument %d of %s: %w", i+1, req.Name, err))}, nil
		}
		args[i] = v
	}
	result, ferr := f.call(ctx, args)
	if ferr != nil {
		return &tfprotov6.CallFunctionResponse{Error: ferr}, nil
	}
	dv, err := tfprotov6.NewDynamicValue(def.Return.Type, result)
	if err != nil {
		return &tfprotov6.CallFunctionResponse{Error: functionBug(fmt.Errorf("encode the result of %s: %w", req.Name, err))}, nil
	}
	return &tfprotov6.CallFunctionResponse{Result: &dv}, nil
}

// argumentError is a function error about the argument at index i (from 0).
func argumentError(i int64, text string) *tfprotov6.FunctionError {
	return &tfprotov6.FunctionError{Text: text, FunctionArgument: &i}
}

// functionBug is a function error only a provider bug can cause.
func functionBug(err error) *tfprotov6.FunctionError {
	return &tfprotov6.FunctionError{Text: "imagesync provider bug: " + err.Error() + ". Please report this to the provider's maintainers."}
}

// stringArg reads argument i, which a string parameter guarantees is a known string.
func stringArg(args []tftypes.Value, i int) (string, *tfprotov6.FunctionError) {
	var s string
	if err := args[i].As(&s); err != nil {
		return "", functionBug(fmt.Errorf("argument %d: %w", i+1, err))
	}
	return s, nil
}
