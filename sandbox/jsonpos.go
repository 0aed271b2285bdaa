package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// jsonErrorAt describes a JSON decoding error of data with the line and
// column where it happened (encoding/json gives only a byte offset), so a
// person can find a stray comma in a settings file without counting bytes.
func jsonErrorAt(data []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		off = int64(len(data))
		if errors.Is(err, io.EOF) {
			return "the file is empty"
		}
		err = errors.New("the file ends before the JSON value does")
	}
	if off < 0 || off > int64(len(data)) {
		return err.Error()
	}
	line, col := position(data[:off])
	return fmt.Sprintf("line %d, column %d: %v", line, col, err)
}

// position is the 1-based line and column of the last byte of prefix (the
// byte the decoder stopped at), counting columns in bytes.
func position(prefix []byte) (line, col int) {
	line = 1 + bytes.Count(prefix, []byte("\n"))
	col = len(prefix) - (bytes.LastIndexByte(prefix, '\n') + 1)
	if col == 0 { // stopped right after a newline: point at the line's start
		col = 1
	}
	return line, col
}
