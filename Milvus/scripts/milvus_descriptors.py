"""Writes a pruned FileDescriptorSet of Milvus's gRPC API from pymilvus's generated files.

pymilvus ships only generated *_pb2.py modules; each carries its .proto file's
descriptor, which this script copies out, keeps only the MilvusService methods
the Swift adapter calls and the messages and enums they reach, and writes as a
FileDescriptorSet for `protoc --descriptor_set_in`. Run by generate-proto.sh.

    python milvus_descriptors.py OUT.pb
"""

import sys

from google.protobuf import descriptor_pb2
from pymilvus.grpc_gen import milvus_pb2

# The RPCs MilvusIndex uses; add one here and rerun generate-proto.sh.
METHODS = [
    "CreateCollection",
    "DropCollection",
    "HasCollection",
    "DescribeCollection",
    "LoadCollection",
    "GetLoadState",
    "CreateIndex",
    "DescribeIndex",
    "Insert",
    "Upsert",
    "Delete",
    "Search",
    "Query",
    "Flush",
]
SERVICE = "MilvusService"
# Messages sent inside `bytes` fields, which no field names: the queries of a
# search (PlaceholderGroup) and the schema of CreateCollection.
EMBEDDED = [".milvus.proto.common.PlaceholderGroup", ".milvus.proto.schema.CollectionSchema"]

# Fields of those messages the adapter never sets or reads, dropped so the
# generated code stays small (a server's values for them are kept as unknown
# fields and ignored). Every request's `base` goes too.
DROP_FIELDS = {
    "milvus.proto.milvus.SearchRequest": [
        "sub_reqs", "function_score", "highlighter", "search_aggregation", "function_chains",
        "expr_template_values", "ids", "namespace",
    ],
    "milvus.proto.milvus.QueryRequest": ["expr_template_values", "namespace"],
    "milvus.proto.milvus.DeleteRequest": ["expr_template_values", "namespace"],
    "milvus.proto.milvus.UpsertRequest": ["field_ops", "namespace"],
    "milvus.proto.milvus.QueryResults": ["element_indices"],
    "milvus.proto.milvus.DescribeCollectionResponse": ["start_positions"],
    "milvus.proto.schema.SearchResultData": [
        "group_by_field_value", "search_iterator_v2_results", "highlight_results", "element_indices",
        "group_by_field_values", "agg_buckets", "agg_topks", "recalls",
    ],
    "milvus.proto.schema.FieldData": ["struct_arrays"],
    "milvus.proto.schema.ScalarField": [
        "array_data", "json_data", "geometry_data", "timestamptz_data", "geometry_wkt_data", "mol_data",
        "mol_smiles_data", "date_data", "time_data", "bytes_data",
    ],
    "milvus.proto.schema.VectorField": ["vector_array", "sparse_float_vector"],
    "milvus.proto.schema.CollectionSchema": [
        "functions", "struct_array_fields", "external_source", "external_spec", "file_resource_ids",
    ],
}


def all_files(root):
    """The file and its imports, dependencies first."""
    seen, order = set(), []

    def visit(fd):
        if fd.name in seen:
            return
        seen.add(fd.name)
        for dep in fd.dependencies:
            visit(dep)
        order.append(fd)

    visit(root)
    return order


def main(out):
    files = []
    for fd in all_files(milvus_pb2.DESCRIPTOR):
        proto = descriptor_pb2.FileDescriptorProto()
        fd.CopyToProto(proto)
        files.append(proto)

    for f in files:
        for m in f.message_type:
            drop = set(DROP_FIELDS.get(f"{f.package}.{m.name}", []))
            if f.name == "milvus.proto":
                drop.add("base")
            kept = [field for field in m.field if field.name not in drop]
            del m.field[:]
            m.field.extend(kept)
            # A oneof left without fields would be invalid: remove emptied ones.
            used = sorted({field.oneof_index for field in kept if field.HasField("oneof_index")})
            if len(used) != len(m.oneof_decl):
                renumber = {old: new for new, old in enumerate(used)}
                decls = [m.oneof_decl[i] for i in used]
                del m.oneof_decl[:]
                m.oneof_decl.extend(decls)
                for field in m.field:
                    if field.HasField("oneof_index"):
                        field.oneof_index = renumber[field.oneof_index]

    # Index every top-level message and enum by its full name ".pkg.Name".
    top = {}  # full name -> (file, kind, proto)
    for f in files:
        for m in f.message_type:
            top[f".{f.package}.{m.name}"] = (f, "message", m)
        for e in f.enum_type:
            top[f".{f.package}.{e.name}"] = (f, "enum", e)

    def owner(type_name):
        """The top-level type holding type_name (itself or an enclosing message)."""
        name = type_name
        while name not in top:
            name = name.rsplit(".", 1)[0]
            if not name:
                raise KeyError(type_name)
        return name

    keep = set()
    service = next(s for f in files for s in f.service if s.name == SERVICE)
    methods = [m for m in service.method if m.name in METHODS]
    missing = set(METHODS) - {m.name for m in methods}
    if missing:
        raise SystemExit(f"pymilvus's {SERVICE} lacks {sorted(missing)}")
    work = [owner(m.input_type) for m in methods] + [owner(m.output_type) for m in methods] + list(EMBEDDED)

    def fields_of(message):
        yield from message.field
        for nested in message.nested_type:
            yield from fields_of(nested)

    while work:
        name = work.pop()
        if name in keep:
            continue
        keep.add(name)
        _, kind, proto = top[name]
        if kind == "message":
            for field in fields_of(proto):
                if field.type_name:
                    work.append(owner(field.type_name))

    pruned = descriptor_pb2.FileDescriptorSet()
    kept_files = set()
    for f in files:
        messages = [m for m in f.message_type if f".{f.package}.{m.name}" in keep]
        enums = [e for e in f.enum_type if f".{f.package}.{e.name}" in keep]
        services = [s for s in f.service if s.name == SERVICE]
        if not (messages or enums or services):
            continue
        g = descriptor_pb2.FileDescriptorProto()
        g.CopyFrom(f)
        del g.message_type[:]
        g.message_type.extend(messages)
        del g.enum_type[:]
        g.enum_type.extend(enums)
        del g.extension[:]  # custom options (privileges) the adapter never reads
        del g.service[:]
        for s in services:
            t = g.service.add()
            t.name = s.name
            for m in s.method:
                if m.name in METHODS:
                    method = t.method.add()
                    method.CopyFrom(m)
                    method.ClearField("options")
        g.ClearField("source_code_info")
        pruned.file.append(g)
        kept_files.add(g.name)

    # Drop imports of files that lost everything; keep only what is referenced.
    for g in pruned.file:
        referenced = set()
        for m in g.message_type:
            for field in fields_of(m):
                if field.type_name:
                    referenced.add(top[owner(field.type_name)][0].name)
        for s in g.service:
            for m in s.method:
                referenced.add(top[owner(m.input_type)][0].name)
                referenced.add(top[owner(m.output_type)][0].name)
        deps = [d for d in g.dependency if d in kept_files and d in referenced]
        del g.dependency[:]
        g.dependency.extend(deps)
        del g.public_dependency[:]
        del g.weak_dependency[:]

    with open(out, "wb") as fh:
        fh.write(pruned.SerializeToString())
    for g in pruned.file:
        print(f"{g.name}: {len(g.message_type)} messages, {len(g.enum_type)} enums, "
              f"{sum(len(s.method) for s in g.service)} methods", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
