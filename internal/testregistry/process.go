package testregistry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// readyTimeout bounds how long a fresh registry may take to answer /v2/.
const readyTimeout = 15 * time.Second

// errExited reports that the registry process ended before it was ready.
var errExited = errors.New("registry process exited")

// process is one running `registry serve`.
type process struct {
	cmd     *exec.Cmd
	cancel  context.CancelFunc
	done    chan struct{} // closed once the process has been reaped
	waitErr error         // valid after done is closed
	logPath string
}

// startProcess runs `bin serve configPath` with its output in logPath.
func startProcess(ctx context.Context, bin, configPath, logPath string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create registry log: %w", err)
	}
	// The child writes to its own copy of the descriptor.
	defer logFile.Close()

	// ctx may bound only the startup; the registry lives until stop.
	procCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	cmd := exec.CommandContext(procCtx, bin, "serve", configPath)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = registryEnv(os.Environ())
	cmd.WaitDelay = 5 * time.Second
	configureProcess(cmd)
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &process{cmd: cmd, cancel: cancel, done: make(chan struct{}), logPath: logPath}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// registryEnv drops REGISTRY_* variables, which would override the config
// file, and turns off the OpenTelemetry exporter v3 otherwise points at
// localhost:4318.
func registryEnv(environ []string) []string {
	env := make([]string, 0, len(environ)+1)
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "REGISTRY_") && !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	return append(env, "OTEL_TRACES_EXPORTER=none")
}

// waitReady polls http://host/v2/ until this process answers it (any status:
// an auth-enabled registry answers 401), the process exits, or ctx ends.
func (p *process) waitReady(ctx context.Context, client *http.Client, host, instance string) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for {
		if p.answers(ctx, client, host, instance) {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%w: %v", errExited, p.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("wait for registry on %s: %w", host, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (p *process) answers(ctx context.Context, client *http.Client, host, instance string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/v2/", nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.Header.Get(instanceHeader) == instance
}

// stop kills the process and waits until it is reaped.
func (p *process) stop() {
	p.cancel()
	<-p.done
}

// logTail is the end of the registry's output, for error messages.
func (p *process) logTail() string {
	const tailBytes = 2048
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no registry log: %v)", err)
	}
	if len(data) > tailBytes {
		data = data[len(data)-tailBytes:]
	}
	return strings.TrimSpace(string(data))
}
