// Package tfprotov6server is the provider: a hand-written tfprotov6.ProviderServer that
// owns schemas, validation, plans, apply and read. It routes each RPC by type name to a
// small resource, data source or function type; every Terraform rule a framework would
// enforce is enforced here.
package tfprotov6server

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// Server implements tfprotov6.ProviderServer.
type Server struct {
	version     string
	resources   map[string]resource
	dataSources map[string]dataSource
	functions   map[string]function

	stop     context.Context // cancelled by StopProvider: in-flight transfers end
	stopOnce func()

	mu            sync.RWMutex
	client        *registryclient.Client // set by ConfigureProvider, shared by every resource
	configUnknown bool                   // the provider block is not wholly known yet
}

// New returns a factory for the provider server, as tf6server.Serve wants it.
func New(version string) func() tfprotov6.ProviderServer {
	return func() tfprotov6.ProviderServer { return guard(newServer(version)) }
}

func newServer(version string) *Server {
	stop, cancel := context.WithCancel(context.Background())
	return &Server{
		version:   version,
		resources: map[string]resource{"imagesync_image": imageResource{}, "imagesync_archive": archiveResource{}},
		dataSources: map[string]dataSource{
			"imagesync_image": imageDataSource{},
			"imagesync_tags":  tagsDataSource{},
		},
		functions: map[string]function{
			"parse_reference": parseReferenceFunction{},
			"pin":             pinFunction{},
		},
		stop:     stop,
		stopOnce: cancel,
	}
}

// resource is one managed resource type. The server decodes and encodes values; a
// resource sees only tftypes values of its own schema and returns diagnostics.
type resource interface {
	schema() *tfprotov6.Schema
	validate(ctx context.Context, config tftypes.Value) diagnostics
	plan(ctx context.Context, client *registryclient.Client, req planRequest) planResult
	apply(ctx context.Context, client *registryclient.Client, req applyRequest) applyResult
	read(ctx context.Context, client *registryclient.Client, req readRequest) readResult
	importState(ctx context.Context, id string) (tftypes.Value, diagnostics)
	// moveState turns another resource type's state into this one's; ok is false for
	// types it does not know.
	moveState(req moveRequest) (state tftypes.Value, ok bool, diags diagnostics)
}

type moveRequest struct {
	sourceType, sourceProvider string
	sourceVersion              int64
	sourceState                []byte // JSON
}

type planRequest struct {
	prior, proposed, config tftypes.Value
	private                 []byte
}

type planResult struct {
	planned         tftypes.Value
	requiresReplace []*tftypes.AttributePath
	private         []byte
	diags           diagnostics
}

type applyRequest struct {
	prior, planned, config tftypes.Value
	private                []byte
}

type applyResult struct {
	state   tftypes.Value
	private []byte
	diags   diagnostics
}

type readRequest struct {
	current tftypes.Value
	private []byte
}

type readResult struct {
	state   tftypes.Value
	private []byte
	diags   diagnostics
}

// dataSource is one data source type: it reads its configuration (always wholly
// known when Terraform asks) and returns the whole object, computed values filled in.
type dataSource interface {
	schema() *tfprotov6.Schema
	validate(ctx context.Context, config tftypes.Value) diagnostics
	read(ctx context.Context, client *registryclient.Client, config tftypes.Value) (tftypes.Value, diagnostics)
}

// function is one provider-defined function. It must be pure: the same arguments
// always give the same result, and it never touches the network.
type function interface {
	definition() *tfprotov6.Function
	// call gets one value per parameter, of the parameter's type, never null or
	// unknown (Terraform handles those itself).
	call(ctx context.Context, args []tftypes.Value) (tftypes.Value, *tfprotov6.FunctionError)
}

// GetMetadata lists the resource types, data sources and functions without building
// their schemas.
func (s *Server) GetMetadata(context.Context, *tfprotov6.GetMetadataRequest) (*tfprotov6.GetMetadataResponse, error) {
	resp := &tfprotov6.GetMetadataResponse{ServerCapabilities: capabilities()}
	for _, name := range sortedKeys(s.resources) {
		resp.Resources = append(resp.Resources, tfprotov6.ResourceMetadata{TypeName: name})
	}
	for _, name := range sortedKeys(s.dataSources) {
		resp.DataSources = append(resp.DataSources, tfprotov6.DataSourceMetadata{TypeName: name})
	}
	for _, name := range sortedKeys(s.functions) {
		resp.Functions = append(resp.Functions, tfprotov6.FunctionMetadata{Name: name})
	}
	return resp, nil
}

// GetProviderSchema returns every schema the provider has.
func (s *Server) GetProviderSchema(context.Context, *tfprotov6.GetProviderSchemaRequest) (*tfprotov6.GetProviderSchemaResponse, error) {
	resp := &tfprotov6.GetProviderSchemaResponse{
		ServerCapabilities:       capabilities(),
		Provider:                 providerSchema(),
		ResourceSchemas:          map[string]*tfprotov6.Schema{},
		DataSourceSchemas:        map[string]*tfprotov6.Schema{},
		Functions:                map[string]*tfprotov6.Function{},
		EphemeralResourceSchemas: map[string]*tfprotov6.Schema{},
	}
	for name, r := range s.resources {
		resp.ResourceSchemas[name] = r.schema()
	}
	for name, d := range s.dataSources {
		resp.DataSourceSchemas[name] = d.schema()
	}
	for name, f := range s.functions {
		resp.Functions[name] = f.definition()
	}
	return resp, nil
}

func capabilities() *tfprotov6.ServerCapabilities {
	return &tfprotov6.ServerCapabilities{GetProviderSchemaOptional: true, PlanDestroy: true, MoveResourceState: true}
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// StopProvider cancels every transfer in flight.
func (s *Server) StopProvider(context.Context, *tfprotov6.StopProviderRequest) (*tfprotov6.StopProviderResponse, error) {
	s.stopOnce()
	return &tfprotov6.StopProviderResponse{}, nil
}

// withStop returns a context that ends with the RPC or with StopProvider.
func (s *Server) withStop(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	unregister := context.AfterFunc(s.stop, cancel)
	return ctx, func() { unregister(); cancel() }
}

// registryClient is the client ConfigureProvider built. Terraform always configures a
// provider before it applies or reads; a server used without configuration (unit tests)
// gets a default client.
func (s *Server) registryClient() *registryclient.Client {
	s.mu.RLock()
	c := s.client
	s.mu.RUnlock()
	if c != nil {
		return c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		s.client = registryclient.New()
	}
	return s.client
}

// configKnown reports whether the provider block was wholly known when configured.
func (s *Server) configKnown() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return !s.configUnknown
}

// lookup finds the resource type named in a request; an unknown name is a Terraform or
// provider bug, so it is a diagnostic rather than a gRPC error.
func (s *Server) lookup(typeName string) (resource, diagnostics) {
	r, ok := s.resources[typeName]
	if !ok {
		var d diagnostics
		d.error("Unknown resource type", fmt.Sprintf("The imagesync provider has no resource type %q.", typeName))
		return nil, d
	}
	return r, nil
}

// lookupDataSource finds the data source named in a request.
func (s *Server) lookupDataSource(typeName string) (dataSource, diagnostics) {
	d, ok := s.dataSources[typeName]
	if !ok {
		var diags diagnostics
		diags.error("Unknown data source", fmt.Sprintf("The imagesync provider has no data source %q.", typeName))
		return nil, diags
	}
	return d, nil
}
