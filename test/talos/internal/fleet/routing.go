package fleet

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/cosi-project/runtime/api/v1alpha1"
	"github.com/siderolabs/talos/pkg/machinery/api/common"
	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/role"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// route is where apid's director sends a call
// (internal/app/apid/pkg/director/director.go).
type route struct {
	local   bool
	single  string
	targets []string
}

func (n *Node) route(ctx context.Context, fullMethod string, maintenance bool) (route, error) {
	md, _ := metadata.FromIncomingContext(ctx)

	// Maintenance mode disables node routing; proxied calls are for this node.
	if maintenance || len(md["proxyfrom"]) > 0 {
		return route{local: true}, nil
	}

	nodes, okNodes := md["nodes"]
	node, okNode := md["node"]

	if okNode && len(node) != 1 {
		return route{}, status.Error(codes.InvalidArgument, "node metadata must be single-valued")
	}

	switch {
	case okNodes:
		if !strings.HasPrefix(fullMethod, "/machine.MachineService/") {
			return route{}, status.Errorf(codes.InvalidArgument, "one-2-many proxying is not supported for method %s", fullMethod)
		}

		for _, target := range nodes {
			if err := checkTarget(target); err != nil {
				return route{}, err
			}
		}

		return route{targets: nodes}, nil
	case okNode:
		if err := checkTarget(node[0]); err != nil {
			return route{}, err
		}

		return route{single: node[0]}, nil
	default:
		return route{local: true}, nil
	}
}

// checkTarget is backend.NewAPID's validation, reported as the director does.
func checkTarget(target string) error {
	if _, _, err := net.SplitHostPort(target); target == "" || err == nil {
		return status.Error(codes.Internal, fmt.Sprintf("invalid target %q", target))
	}

	return nil
}

// reach is apid dialling target:50000 with the node's client certificate.
// Targets are the fleet's node names, served in-process; the errors are those
// of a real dial.
func (n *Node) reach(target string) (*Node, error) {
	n.f.mu.Lock()
	defer n.f.mu.Unlock()

	t := n.f.nodes[target]
	if t == nil || t.server == nil || n.cfg == nil {
		return nil, status.Errorf(codes.Unavailable,
			"connection error: desc = \"transport: Error while dialing: dial tcp %s: connect: connection refused\"",
			net.JoinHostPort(target, strconv.Itoa(n.f.opts.Port)))
	}

	// A maintenance-mode target's certificate comes from its own throwaway CA.
	if t.state != stateConfigured || !n.trustsLocked(t.caCrtLocked()) || !t.trustsLocked(n.caCrtLocked()) {
		return nil, status.Error(codes.Unavailable,
			"connection error: desc = \"transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority\"")
	}

	return t, nil
}

func (n *Node) unaryInterceptor(maintenance bool) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, _ grpc.UnaryHandler) (any, error) {
		roles := callerRoles(ctx, maintenance)

		if err := n.takeFailure(info.FullMethod); err != nil {
			return nil, err
		}

		r, err := n.route(ctx, info.FullMethod, maintenance)
		if err != nil {
			return nil, err
		}

		switch {
		case r.local:
			return n.invokeUnary(ctx, roles, info.FullMethod, req)
		case r.single != "":
			t, err := n.reach(r.single)
			if err == nil && t != n {
				err = t.takeFailure(info.FullMethod)
			}

			if err != nil {
				return nil, err
			}

			return t.invokeUnary(ctx, roles, info.FullMethod, req)
		default:
			return n.fanOutUnary(ctx, roles, info.FullMethod, req, r.targets)
		}
	}
}

func (n *Node) streamInterceptor(maintenance bool) grpc.StreamServerInterceptor {
	return func(_ any, ss grpc.ServerStream, info *grpc.StreamServerInfo, _ grpc.StreamHandler) error {
		ctx := ss.Context()
		roles := callerRoles(ctx, maintenance)

		if err := n.takeFailure(info.FullMethod); err != nil {
			return err
		}

		r, err := n.route(ctx, info.FullMethod, maintenance)
		if err != nil {
			return err
		}

		switch {
		case r.local:
			return n.invokeStream(roles, info.FullMethod, &callStream{ServerStream: ss, ctx: ctx})
		case r.single != "":
			t, err := n.reach(r.single)
			if err == nil && t != n {
				err = t.takeFailure(info.FullMethod)
			}

			if err != nil {
				return err
			}

			return t.invokeStream(roles, info.FullMethod, &callStream{ServerStream: ss, ctx: ctx})
		default:
			return n.fanOutStream(ctx, roles, info.FullMethod, ss, r.targets)
		}
	}
}

// invokeUnary is machined handling a call: count it, authorize it, run it.
func (n *Node) invokeUnary(ctx context.Context, roles role.Set, fullMethod string, req any) (any, error) {
	n.countCall(fullMethod)

	if err := authorize(roles, fullMethod); err != nil {
		return nil, err
	}

	h, name := n.handler(fullMethod)
	for _, m := range h.desc.Methods {
		if m.MethodName == name {
			decode := func(into any) error {
				proto.Merge(into.(proto.Message), req.(proto.Message))

				return nil
			}

			return m.Handler(h.impl, withRoles(ctx, roles), decode, nil)
		}
	}

	return nil, status.Errorf(codes.Unimplemented, "unknown method %s", fullMethod)
}

func (n *Node) invokeStream(roles role.Set, fullMethod string, stream *callStream) error {
	n.countCall(fullMethod)

	if err := authorize(roles, fullMethod); err != nil {
		return err
	}

	stream.ctx = withRoles(stream.ctx, roles)

	h, name := n.handler(fullMethod)
	for _, s := range h.desc.Streams {
		if s.StreamName == name {
			return s.Handler(h.impl, stream)
		}
	}

	return status.Errorf(codes.Unimplemented, "unknown method %s", fullMethod)
}

func (n *Node) countCall(fullMethod string) {
	n.f.mu.Lock()
	n.calls[callKey(fullMethod)]++
	n.f.mu.Unlock()
}

// serviceHandler is one gRPC service a node serves.
type serviceHandler struct {
	desc *grpc.ServiceDesc
	impl any
}

// handlers are the services machined registers that the fake serves:
// MachineService and the COSI resource API.
func (n *Node) handlers() []serviceHandler {
	return []serviceHandler{
		{desc: &machine.MachineService_ServiceDesc, impl: &service{n: n}},
		{desc: &v1alpha1.State_ServiceDesc, impl: &cosiService{n: n}},
	}
}

// handler finds the service of a full method name, and the method's name;
// MachineService for an unknown service (its handlers answer Unimplemented).
func (n *Node) handler(fullMethod string) (serviceHandler, string) {
	service, method, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")

	handlers := n.handlers()
	for _, h := range handlers {
		if h.desc.ServiceName == service {
			return h, method
		}
	}

	return serviceHandler{desc: &grpc.ServiceDesc{}}, method
}

// fanOutUnary is apid's one-to-many proxying: one reply per target, each
// stamped with metadata.hostname; a target that fails contributes a reply
// carrying only metadata.error and metadata.status
// (internal/app/apid/pkg/backend/apid.go AppendInfo, BuildError).
func (n *Node) fanOutUnary(ctx context.Context, roles role.Set, fullMethod string, req any, targets []string) (any, error) {
	out, err := newMessage(fullMethod, false)
	if err != nil {
		return nil, err
	}

	messagesField := out.ProtoReflect().Descriptor().Fields().ByNumber(1)
	messages := out.ProtoReflect().Mutable(messagesField).List()

	for _, target := range targets {
		reply, err := n.callTarget(ctx, roles, fullMethod, req, target)
		if err != nil {
			element := messages.NewElement()
			setMetadata(element.Message(), errorMetadata(target, err))
			messages.Append(element)

			continue
		}

		list := reply.(proto.Message).ProtoReflect().Get(messagesField).List()
		for i := range list.Len() {
			setMetadata(list.Get(i).Message(), &common.Metadata{Hostname: target})
			messages.Append(list.Get(i))
		}
	}

	return out, nil
}

func (n *Node) callTarget(ctx context.Context, roles role.Set, fullMethod string, req any, target string) (any, error) {
	t, err := n.reach(target)
	if err != nil {
		return nil, err
	}

	if err = t.takeFailure(fullMethod); err != nil {
		return nil, err
	}

	return t.invokeUnary(ctx, roles, fullMethod, req)
}

// fanOutStream is one-to-many proxying of a server-streaming call: the
// targets' messages, each stamped with metadata.hostname, one target after
// another; a failing target sends one message with metadata.error.
func (n *Node) fanOutStream(ctx context.Context, roles role.Set, fullMethod string, ss grpc.ServerStream, targets []string) error {
	req, err := newMessage(fullMethod, true)
	if err != nil {
		return err
	}

	if err = ss.RecvMsg(req); err != nil {
		return err
	}

	for _, target := range targets {
		err := func() error {
			t, err := n.reach(target)
			if err != nil {
				return err
			}

			if err = t.takeFailure(fullMethod); err != nil {
				return err
			}

			return t.invokeStream(roles, fullMethod, &callStream{ServerStream: ss, ctx: ctx, replay: req, hostname: target})
		}()
		if err == nil {
			continue
		}

		msg, buildErr := newMessage(fullMethod, false)
		if buildErr != nil {
			return buildErr
		}

		setMetadata(msg.ProtoReflect(), errorMetadata(target, err))

		if err = ss.SendMsg(msg); err != nil {
			return err
		}
	}

	return nil
}

func errorMetadata(target string, err error) *common.Metadata {
	return &common.Metadata{
		Hostname: target,
		Error:    err.Error(),
		Status:   status.Convert(err).Proto(),
	}
}

// setMetadata sets field 1, which is common.Metadata in every Talos reply.
func setMetadata(msg protoreflect.Message, md *common.Metadata) {
	msg.Set(msg.Descriptor().Fields().ByNumber(1), protoreflect.ValueOfMessage(md.ProtoReflect()))
}

// newMessage makes an empty request (input) or response (output) of a method.
func newMessage(fullMethod string, input bool) (proto.Message, error) {
	service, method, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")

	desc, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return nil, status.Errorf(codes.Unimplemented, "unknown service %s", service)
	}

	methodDesc := desc.(protoreflect.ServiceDescriptor).Methods().ByName(protoreflect.Name(method))
	if methodDesc == nil {
		return nil, status.Errorf(codes.Unimplemented, "unknown method %s", fullMethod)
	}

	msgDesc := methodDesc.Output()
	if input {
		msgDesc = methodDesc.Input()
	}

	msgType, err := protoregistry.GlobalTypes.FindMessageByName(msgDesc.FullName())
	if err != nil {
		return nil, err
	}

	return msgType.New().Interface(), nil
}

// callStream runs a streaming handler on behalf of the client's stream: with
// the caller's roles in its context, and, when fanned out, replaying the
// request and stamping every message with the target.
type callStream struct {
	grpc.ServerStream

	ctx      context.Context //nolint:containedctx
	replay   proto.Message
	replayed bool
	hostname string
}

func (s *callStream) Context() context.Context { return s.ctx }

func (s *callStream) RecvMsg(m any) error {
	if s.replay == nil {
		return s.ServerStream.RecvMsg(m)
	}

	if s.replayed {
		return io.EOF
	}

	s.replayed = true
	proto.Merge(m.(proto.Message), s.replay)

	return nil
}

func (s *callStream) SendMsg(m any) error {
	if s.hostname != "" {
		setMetadata(m.(proto.Message).ProtoReflect(), &common.Metadata{Hostname: s.hostname})
	}

	return s.ServerStream.SendMsg(m)
}
