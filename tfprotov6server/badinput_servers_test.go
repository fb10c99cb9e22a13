package tfprotov6server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// This file builds the registries the bad input catalogue needs that a real registry
// will not become on demand: one serving manifests distribution refuses to store, one
// refusing uploads, TLS servers with broken certificates, a port nobody listens on.

// scriptedManifest is a manifest a scripted registry serves under a tag.
type scriptedManifest struct {
	contentType string
	body        []byte
}

// scriptedRegistry answers GET /v2/ and serves manifests by "repo:tag" and by digest,
// with the Docker-Content-Digest of their bytes, for content a real registry refuses to
// store: schema 1, unknown media types, manifests over 4 MiB.
func scriptedRegistry(t *testing.T, manifests map[string]scriptedManifest) string {
	t.Helper()
	byRef := map[string]scriptedManifest{}
	for ref, m := range manifests {
		repo, _, _ := strings.Cut(ref, ":")
		byRef[ref] = m
		byRef[repo+"@"+digest.FromBytes(m.body).String()] = m
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		repo, ref, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/manifests/")
		sep := ":"
		if strings.HasPrefix(ref, "sha256:") {
			sep = "@"
		}
		m, found := byRef[repo+sep+ref]
		if !ok || !found {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`)
			return
		}
		w.Header().Set("Content-Type", m.contentType)
		w.Header().Set("Docker-Content-Digest", digest.FromBytes(m.body).String())
		w.Header().Set("Content-Length", fmt.Sprint(len(m.body)))
		if r.Method == http.MethodGet {
			_, _ = w.Write(m.body)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// schema1Manifest is a Docker schema 1 manifest as old registries still serve them.
func schema1Manifest() scriptedManifest {
	body := `{"schemaVersion":1,"name":"legacy/app","tag":"v1","architecture":"amd64",` +
		`"fsLayers":[{"blobSum":"sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"}],` +
		`"history":[{"v1Compatibility":"{\"id\":\"e45a5af57b00862e5ef5782a9925979a02ba2b12dff832fd0991335f4a11e5c5\"}"}],` +
		`"signatures":[]}`
	return scriptedManifest{"application/vnd.docker.distribution.manifest.v1+prettyjws", []byte(body)}
}

// oversizedManifest is an OCI image manifest one byte over distribution's 4 MiB limit,
// padded with an annotation.
func oversizedManifest(t *testing.T) scriptedManifest {
	t.Helper()
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: ocispec.DescriptorEmptyJSON, Layers: []ocispec.Descriptor{}}
	m.SchemaVersion = 2
	m.Annotations = map[string]string{"padding": ""}
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	m.Annotations["padding"] = strings.Repeat("x", 4<<20+1-len(body))
	if body, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	return scriptedManifest{ocispec.MediaTypeImageManifest, body}
}

// refusingProxy forwards to the registry at upstream, but answers an upload POST
// (plain or a mount) into a repository under denied/ with 403 DENIED, as a registry
// does for a user with pull access only, and into one under missing/ with 404
// NAME_UNKNOWN, as Amazon ECR does for a repository nobody created.
func refusingProxy(t *testing.T, upstream string) string {
	t.Helper()
	proxy := quietProxy(upstream)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upload := r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/blobs/uploads/")
		switch {
		case upload && strings.HasPrefix(r.URL.Path, "/v2/denied/"):
			registryError(w, http.StatusForbidden, "DENIED", "requested access to the resource is denied")
		case upload && strings.HasPrefix(r.URL.Path, "/v2/missing/"):
			registryError(w, http.StatusNotFound, "NAME_UNKNOWN", "The repository with name 'missing/app' does not exist in the registry")
		default:
			proxy.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// statusRegistry answers every request under a repository with the same error, for
// answers a real registry gives only with an access policy: 403 DENIED on a pull.
func statusRegistry(t *testing.T, status int, code, message string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		registryError(w, status, code, message)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func registryError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"errors":[{"code":%q,"message":%q}]}`, code, message)
}

// closedPort is a loopback host:port that nothing listens on: a registry that is down.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// testCA is a certificate authority made for one test run.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

func newTestCA(t *testing.T) testCA {
	t.Helper()
	template := certTemplate("imagesync test CA", time.Now().Add(24*time.Hour))
	template.IsCA, template.BasicConstraintsValid = true, true
	template.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	key := newKey(t)
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// serverCert is a TLS server certificate for the names given (IP addresses or DNS
// names), valid until notAfter, signed by ca, or self-signed when ca is nil.
func serverCert(t *testing.T, ca *testCA, notAfter time.Time, names ...string) tls.Certificate {
	t.Helper()
	template := certTemplate(names[0], notAfter)
	template.KeyUsage = x509.KeyUsageDigitalSignature
	template.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			template.IPAddresses = append(template.IPAddresses, ip)
		} else {
			template.DNSNames = append(template.DNSNames, n)
		}
	}
	key := newKey(t)
	parent, signer := template, key
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func certTemplate(name string, notAfter time.Time) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    notAfter.Add(-48 * time.Hour),
		NotAfter:     notAfter,
	}
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// tlsRegistry serves upstream (a plain-HTTP registry) over TLS with cert on 127.0.0.1
// and returns its host:port.
func tlsRegistry(t *testing.T, cert tls.Certificate, upstream string) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(quietProxy(upstream))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes the client refuses
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// quietProxy forwards to the registry at upstream without logging the requests a
// client gives up on.
func quietProxy(upstream string) *httputil.ReverseProxy {
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: upstream})
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	return proxy
}

// credentialHelper writes docker-credential-<name> running script into a directory on
// PATH for the rest of the test.
func credentialHelper(t *testing.T, name, script string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-"+name), []byte("#!/bin/sh\n"+script), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// dockerConfigDir writes content as config.json into a new directory and makes it the
// default Docker config for the rest of the test.
func dockerConfigDir(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	return writeFile(t, dir, "config.json", content)
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func digestOf(b []byte) digest.Digest { return digest.FromBytes(b) }
