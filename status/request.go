package status

import (
	"bytes"
	"encoding/json"
	"errors"
)

type op string

const (
	opGet   op = "get"
	opWatch op = "watch"
)

type request struct {
	Op op `json:"op"`
}

// parseRequest decodes a request line (its newline optional): one JSON
// object, {"op":"get"} or {"op":"watch"}, and nothing else.
func parseRequest(line []byte) (op, error) {
	if len(line) > maxRequest {
		return "", errors.New("request too long")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var r request
	if err := dec.Decode(&r); err != nil {
		return "", errors.New("bad request: not a JSON object with op")
	}
	if len(bytes.TrimSpace(line[dec.InputOffset():])) != 0 {
		return "", errors.New("bad request: more than one value")
	}
	switch r.Op {
	case opGet, opWatch:
		return r.Op, nil
	}
	return "", errors.New("bad request: op must be get or watch")
}
