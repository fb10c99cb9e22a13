package testregistry

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// access is one entry of a token's "access" claim: the actions granted on a
// typed, named resource such as repository:library/alpine.
type access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// claims is the JWT payload distribution's token access controller checks:
// iss must equal auth.token.issuer, aud must contain auth.token.service, and
// exp/nbf are compared with a 60 s leeway (registry/auth/token/token.go).
type claims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  string   `json:"aud"`
	Expiry    int64    `json:"exp"`
	NotBefore int64    `json:"nbf"`
	IssuedAt  int64    `json:"iat"`
	ID        string   `json:"jti"`
	Access    []access `json:"access"`
}

// signer mints registry bearer tokens with an ES256 key whose self-signed
// certificate is the registry's auth.token.rootcertbundle.
type signer struct {
	key     *ecdsa.PrivateKey
	certDER []byte
	issuer  string
	service string
}

func newSigner(issuer, service string) (*signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate token signing key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, fmt.Errorf("generate certificate serial: %w", err)
	}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: issuer},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create token signing certificate: %w", err)
	}
	return &signer{key: key, certDER: der, issuer: issuer, service: service}, nil
}

// certPEM is the root certificate bundle the registry trusts.
func (s *signer) certPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.certDER})
}

// token returns a compact JWS granting grants to subject until now+ttl.
//
// The header carries the certificate in x5c: distribution v3 verifies that
// chain against rootcertbundle first, and only without x5c falls back to a
// "kid" equal to the key's RFC 7638 JWK thumbprint (not the libtrust key ID
// registry v2 wanted).
func (s *signer) token(subject string, grants []access, ttl time.Duration) (string, error) {
	now := time.Now()
	header := map[string]any{
		"alg": "ES256",
		"typ": "JWT",
		"x5c": []string{base64.StdEncoding.EncodeToString(s.certDER)},
	}
	payload := claims{
		Issuer:    s.issuer,
		Subject:   subject,
		Audience:  s.service,
		Expiry:    now.Add(ttl).Unix(),
		NotBefore: now.Unix(),
		IssuedAt:  now.Unix(),
		ID:        rand.Text(),
		Access:    grants,
	}
	if payload.Access == nil {
		payload.Access = []access{}
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("encode token header: %w", err)
	}
	p, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("encode token claims: %w", err)
	}
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	sum := sha256.Sum256([]byte(input))
	r, sig, err := ecdsa.Sign(rand.Reader, s.key, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	// JWS wants the raw 32-byte big-endian R||S, not the ASN.1 form x509 uses.
	raw := make([]byte, 64)
	r.FillBytes(raw[:32])
	sig.FillBytes(raw[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(raw), nil
}
