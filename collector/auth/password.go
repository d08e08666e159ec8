package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// MinPasswordLength is the shortest password accepted, in characters.
// Length matters more than character classes, so nothing else is required.
const MinPasswordLength = 12

// maxPasswordLength bounds the work one sign-in attempt can ask for.
const maxPasswordLength = 1024

// Argon2id parameters: OWASP's 19 MiB, two passes, one lane, about 50 ms
// on the collector's small hardware. They are written into every hash, so
// raising them later still verifies the old hashes.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// ErrPasswordPolicy is a password refused before hashing.
var ErrPasswordPolicy = fmt.Errorf("password must be %d to %d characters", MinPasswordLength, maxPasswordLength)

// CheckPasswordPolicy says whether pw may be set as a password.
func CheckPasswordPolicy(pw string) error {
	if n := utf8.RuneCountInString(pw); n < MinPasswordLength || len(pw) > maxPasswordLength {
		return ErrPasswordPolicy
	}
	return nil
}

var b64 = base64.RawStdEncoding

// HashPassword returns pw hashed with argon2id and a random salt, as a
// PHC string: $argon2id$v=19$m=19456,t=2,p=1$salt$hash.
func HashPassword(pw string) (string, error) {
	if err := CheckPasswordPolicy(pw); err != nil {
		return "", err
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether pw matches the PHC string encoded. A
// malformed hash is an error, never a match.
func VerifyPassword(encoded, pw string) (bool, error) {
	p, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	if len(pw) > maxPasswordLength {
		return false, nil
	}
	key := argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

type phc struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

var errBadHash = errors.New("password hash is not an argon2id PHC string")

// parsePHC reads an argon2id PHC string, refusing parameters far beyond
// ours so a tampered row cannot make one sign-in take minutes.
func parsePHC(s string) (phc, error) {
	var p phc
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, fmt.Errorf("%w: version %q", errBadHash, parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return p, fmt.Errorf("%w: parameters %q", errBadHash, parts[3])
	}
	if p.memory < 8 || p.memory > 1<<20 || p.time < 1 || p.time > 16 || p.threads < 1 || p.threads > 16 {
		return p, fmt.Errorf("%w: parameters %q out of range", errBadHash, parts[3])
	}
	var err error
	if p.salt, err = b64.DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return p, fmt.Errorf("%w: salt", errBadHash)
	}
	if p.key, err = b64.DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > 64 {
		return p, fmt.Errorf("%w: hash", errBadHash)
	}
	return p, nil
}

// dummyHash is verified against when a sign-in names no known user, so an
// unknown name takes as long as a wrong password.
var dummyHash = func() string {
	h, err := HashPassword("not-a-real-password-0000")
	if err != nil {
		panic(err)
	}
	return h
}()

// VerifyNothing spends the time of one verification and fails.
func VerifyNothing(pw string) {
	_, _ = VerifyPassword(dummyHash, pw)
}

// passwordAlphabet leaves out look-alikes (0/O, 1/l/I) so a password read
// from a terminal can be typed.
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratePassword returns 20 random characters of passwordAlphabet,
// about 116 bits, in groups of five for reading aloud.
func GeneratePassword() string {
	var b strings.Builder
	buf := make([]byte, 1)
	for i := 0; i < 20; {
		if _, err := rand.Read(buf); err != nil {
			panic(fmt.Sprintf("auth: no randomness: %v", err))
		}
		// Rejection sampling keeps every character equally likely.
		if int(buf[0]) >= 256-256%len(passwordAlphabet) {
			continue
		}
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(passwordAlphabet[int(buf[0])%len(passwordAlphabet)])
		i++
	}
	return b.String()
}
