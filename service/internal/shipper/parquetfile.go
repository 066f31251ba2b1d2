package shipper

import (
	"bytes"
	"strconv"

	"github.com/parquet-go/parquet-go"
)

// SchemaVersionKey is the key-value metadata entry every Parquet file of the lake carries.
const SchemaVersionKey = "hybridctl.schema_version"

// EncodeParquet writes rows as one Parquet file (zstd-compressed columns) in memory.
func EncodeParquet[T any](rows []T) ([]byte, error) {
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf,
		parquet.KeyValueMetadata(SchemaVersionKey, strconv.Itoa(SchemaVersion)),
		parquet.Compression(&parquet.Zstd),
	)
	if _, err := w.Write(rows); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
