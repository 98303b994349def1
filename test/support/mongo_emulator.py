#!/usr/bin/python3
"""In-memory MongoDB emulator for tests: mockupdb (wire protocol) + mongomock (engine).

The official Node ``mongodb`` driver (v7) can connect to this process over TCP
as if it were a standalone ``mongod``::

    /usr/bin/python3 test/support/mongo_emulator.py --port 0 [--host 127.0.0.1]
        [--user U --password P]

It prints exactly one line, ``MONGO_EMULATOR_READY port=<port>``, on stdout
once it accepts connections, then serves until SIGTERM/SIGINT (exit code 0).
Diagnostics go to stderr; ``--verbose`` logs every command.
``--exit-on-stdin-eof`` makes it exit when its stdin closes, so it never
outlives a test runner that was killed.

How it works: ``mockupdb.MockupDB`` accepts connections and parses OP_MSG /
OP_QUERY messages (including OP_MSG "document sequence" sections, which it
folds into the command document, e.g. ``documents`` for ``insert``).  Each
command is translated into calls on one shared ``mongomock.MongoClient`` and
the result is sent back in the shape a real server uses (cursors with
``firstBatch``/``nextBatch`` and ``getMore``, ``writeErrors``, error codes).
Filters that pin ``_id`` (equality, ``$eq``, ``$in``) look the documents up by
key instead of scanning the collection, and plain top-level equality filters
use a tight scan; both give exactly mongomock's results (see
_fast_iter_documents).

With ``--user U --password P`` it requires authentication as mongod does with
``--auth`` (see Authenticator): SCRAM-SHA-256 and SCRAM-SHA-1 through
saslStart/saslContinue and hello's speculativeAuthenticate/saslSupportedMechs;
a wrong password or unknown user gets 18 AuthenticationFailed "Authentication
failed.", and before authenticating a connection may only run hello/isMaster,
saslStart/saslContinue, ping, buildInfo, listCommands and connectionStatus
(anything else: 13 Unauthorized "Command <name> requires authentication").
Differences: the user is accepted on every authentication database (mongod:
only the one it was created in, usually admin), has every right (no roles or
privileges are checked), the password must be printable ASCII (no SASLprep),
there is one user and no user management commands, logout or X.509.

Where it differs from MongoDB (it is a test double, not a database):
  * in-memory only: all data is lost when the process exits;
  * no transactions: commands carrying ``startTransaction``/``autocommit`` and
    ``commitTransaction``/``abortTransaction`` fail with code 263
    OperationNotSupportedInTransaction, "transactions are not supported by the
    mongomock emulator" (not 20 IllegalOperation: the Node driver replaces
    code 20 on writes with a misleading "retryWrites=false" message);
  * authentication only as above (one user, no roles), no TLS, no
    compression, no change streams, no text search or geo queries, no
    collations, no arrayFilters or pipeline-style updates, no
    views/capped/time-series collections;
  * schema validators given to ``create`` are accepted but not enforced;
  * query/aggregation semantics are mongomock's (a large but incomplete subset
    of MongoDB's); what mongomock reports as unimplemented fails with code 238
    NotImplemented, but some corner cases may simply behave differently;
  * unique indexes compare whole values (an array is not indexed per element
    as MongoDB's multikey indexes are); other indexes only exist on paper;
  * it reports itself as a standalone server (maxWireVersion 21 = 7.0), so the
    driver uses no retryable writes and no change streams;
  * every command runs under one global lock (no concurrency inside the engine).

Requirements (Debian): python3-mongomock python3-mockupdb (pull in python3-bson
and python3-pymongo).
"""

import argparse
import base64
import datetime
import errno
import hashlib
import hmac
import itertools
import os
import random
import signal
import socket
import sys
import threading
import time
import traceback

try:
    import bson
    import bson.errors
    from bson import json_util
    from bson.binary import UuidRepresentation
    from bson.codec_options import CodecOptions
    from bson.int64 import Int64
    from bson.raw_bson import RawBSONDocument
    import mockupdb
    import mongomock
    import mongomock.collection
    from mongomock import filtering, helpers
    from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError
except ImportError as _import_error:  # pragma: no cover - environment problem
    sys.stderr.write(
        'mongo_emulator: missing Python module (%s). Install with: '
        'apt-get install python3-mongomock python3-mockupdb\n' % _import_error)
    sys.exit(3)

SERVER_VERSION = '7.0.0'
MAX_WIRE_VERSION = 21          # MongoDB 7.0; driver v7 accepts 9..29
MAX_BSON_SIZE = 16 * 1024 * 1024
MAX_MESSAGE_SIZE = 48000000
MAX_WRITE_BATCH = 100000
# Real servers stop filling a batch once it reaches ~16 MB.
BATCH_BYTE_LIMIT = MAX_BSON_SIZE - 256 * 1024
DEFAULT_FIRST_BATCH = 101
CURSOR_IDLE_TIMEOUT = 600.0    # seconds, like mongod's cursorTimeoutMillis

NO_TXN_MSG = 'transactions are not supported by the mongomock emulator'

CODE_NAMES = {
    1: 'InternalError', 2: 'BadValue', 9: 'FailedToParse', 11: 'UserNotFound',
    13: 'Unauthorized', 14: 'TypeMismatch', 17: 'ProtocolError',
    18: 'AuthenticationFailed', 20: 'IllegalOperation', 26: 'NamespaceNotFound',
    27: 'IndexNotFound', 43: 'CursorNotFound', 48: 'NamespaceExists',
    59: 'CommandNotFound', 66: 'ImmutableField', 67: 'CannotCreateIndex',
    72: 'InvalidOptions', 73: 'InvalidNamespace', 85: 'IndexOptionsConflict',
    86: 'IndexKeySpecsConflict', 115: 'CommandNotSupported',
    238: 'NotImplemented', 263: 'OperationNotSupportedInTransaction',
    334: 'MechanismUnavailable', 11000: 'DuplicateKey',
}


# --------------------------------------------------------------------------
# mockupdb adjustments
# --------------------------------------------------------------------------

# Decode requests into plain dicts and keep every Binary subtype as Binary
# (mockupdb's default would turn legacy UUIDs into uuid.UUID objects).
mockupdb.CODEC_OPTIONS = CodecOptions(
    document_class=dict, uuid_representation=UuidRepresentation.UNSPECIFIED)


def _recv_exact(sock, length):
    """Replacement for mockupdb.mock_server_receive.

    The original concatenates bytes chunk by chunk, which is quadratic for the
    multi-megabyte messages GridFS and insertMany produce.
    """
    buf = bytearray(length)
    view = memoryview(buf)
    pos = 0
    while pos < length:
        got = sock.recv_into(view[pos:], length - pos)
        if got == 0:
            raise socket.error(errno.ECONNRESET, 'closed')
        pos += got
    return bytes(buf)


mockupdb.mock_server_receive = _recv_exact


# --------------------------------------------------------------------------
# mongomock adjustment: hash-based unique index check
# --------------------------------------------------------------------------
# mongomock checks unique indexes by running a full-collection query for every
# inserted/updated document (quadratic).  This keeps, per unique index, a
# lazily built table key -> store ids.  Entries are validated on use, so stale
# ones (left by deletes, updates, rollbacks) are harmless and pruned.  Every
# write path that can introduce a key goes through _ensure_uniques, which is
# where the table is updated.

_original_ensure_uniques = mongomock.collection.Collection._ensure_uniques


class _Unhashable(Exception):
    pass


def _hashable(value):
    if isinstance(value, bool):
        return ('\x00bool', value)
    if isinstance(value, dict):
        return ('\x00doc', tuple((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ('\x00arr', tuple(_hashable(v) for v in value))
    try:
        hash(value)
    except TypeError:
        raise _Unhashable()
    return value


def _store_key(doc_id):
    return helpers.hashdict(doc_id) if isinstance(doc_id, dict) else doc_id


def _index_key(doc, fields):
    values = []
    for field in fields:
        try:
            values.append(helpers.get_value_by_dot(doc, field))
        except KeyError:
            values.append(None)
    return values


def _fast_ensure_uniques(self, new_data):
    store = self._store
    unique = [(name, index) for name, index in store.indexes.items()
              if index.get('unique')]
    if not unique:
        return
    if any(index.get('partialFilterExpression') is not None
           for _, index in unique):
        return _original_ensure_uniques(self, new_data)
    try:
        cache = store.__dict__.setdefault('_emulator_unique_cache', {})
        own_id = _store_key(new_data['_id'])
        for name, index in unique:
            fields = [field for field, _ in index['key']]
            values = _index_key(new_data, fields)
            if index.get('sparse') and all(v is None for v in values):
                continue
            key = _hashable(values)
            entry = cache.get(name)
            if entry is None or entry[0] is not index:
                table = {}
                for doc in list(store._documents.values()):
                    doc_key = _hashable(_index_key(doc, fields))
                    table.setdefault(doc_key, set()).add(_store_key(doc['_id']))
                entry = cache[name] = (index, table)
            table = entry[1]
            candidates = table.setdefault(key, set())
            for candidate in list(candidates):
                if candidate == own_id:
                    continue
                doc = store._documents.get(candidate)
                if doc is None or _hashable(_index_key(doc, fields)) != key:
                    candidates.discard(candidate)   # stale entry
                    continue
                raise DuplicateKeyError('E11000 Duplicate Key Error', 11000)
            candidates.add(own_id)
    except _Unhashable:
        store.__dict__.pop('_emulator_unique_cache', None)
        return _original_ensure_uniques(self, new_data)


mongomock.collection.Collection._ensure_uniques = _fast_ensure_uniques


# --------------------------------------------------------------------------
# mongomock adjustment: fast candidate selection in _iter_documents
# --------------------------------------------------------------------------
# Every read and write path of mongomock (find, count, distinct, update,
# replace, delete, findAndModify, the fallback unique check) selects documents
# through Collection._iter_documents, which evaluates the filter against every
# document of the collection.  For the write pattern of bulk loaders (one
# replaceOne/updateOne/deleteOne per _id) that makes a batch quadratic.
#
#   * _id fast path: when the filter pins _id (``{_id: v}``, ``{_id: {$eq: v}}``,
#     ``{_id: {$in: [...]}}``, also inside a top-level ``$and``) to plain
#     scalars, the candidates are looked up in the store's _documents dict
#     (keyed by _id) and the whole filter is still evaluated on each of them,
#     so the result is exactly the full scan's (same documents, same natural
#     order).  For these value types mongomock matches _id by Python ``==``,
#     which is also how the dict finds keys, so no match can be missed.
#   * simple equality scan: a filter made only of ``{field: scalar}`` or
#     ``{field: {$eq: scalar}}`` terms on top-level fields (e.g. GridFS's
#     {filename: x} and {files_id: {$eq: id}}, or {}) is evaluated by a tight
#     loop replicating mongomock's matching for that case (``doc_val == v``,
#     or membership when doc_val is an array).
#   * anything else goes through mongomock's own code.

_original_iter_documents = mongomock.collection.Collection._iter_documents
_NOTHING = filtering.NOTHING
_SCALAR_TYPES = (str, int, float, datetime.datetime, bson.ObjectId)


def _plain_scalar(value):
    """True for values mongomock compares with plain ``==`` (and hashable)."""
    if not isinstance(value, _SCALAR_TYPES):
        return False
    if isinstance(value, float) and value != value:   # NaN
        return False
    return True


def _id_values(search):
    """Values _id must equal (a list) for ``{_id: search}``, else None."""
    if not isinstance(search, dict):
        return [search] if _plain_scalar(search) else None
    if not search or not all(isinstance(k, str) and k.startswith('$')
                             for k in search):
        return None        # embedded-document equality
    if '$eq' in search and _plain_scalar(search['$eq']):
        return [search['$eq']]
    values = search.get('$in')
    if isinstance(values, (list, tuple)) and \
            all(_plain_scalar(v) for v in values):
        return list(values)
    return None


def _id_candidates(spec, depth=0):
    """Candidate _id values implied by a filter (a superset of the matches),
    or None when the filter does not restrict _id that way."""
    if not isinstance(spec, dict):
        return None
    best = None
    if '_id' in spec:
        best = _id_values(spec['_id'])
    clauses = spec.get('$and')
    if isinstance(clauses, (list, tuple)) and depth < 8:
        for clause in clauses:
            values = _id_candidates(clause, depth + 1)
            if values is not None and (best is None or len(values) < len(best)):
                best = values
    return best


def _simple_equality(spec):
    """[(field, value, is_eq_op)] when spec only has top-level terms
    ``field: scalar`` or ``field: {$eq: scalar}``."""
    if not isinstance(spec, dict):
        return None
    terms = []
    for key, value in spec.items():
        if not isinstance(key, str) or not key or '.' in key or \
                key.startswith('$'):
            return None
        is_op = isinstance(value, dict) and len(value) == 1 and '$eq' in value
        if is_op:
            value = value['$eq']
        if not _plain_scalar(value):
            return None
        terms.append((key, value, is_op))
    return terms


def _simple_match(doc, terms):
    # Same outcome as filtering.filter_applies for these terms: for a scalar
    # search value it checks ``doc_val == search`` or, on arrays, membership
    # (``field: v`` also accepts str(ObjectId) members, ``$eq`` does not).
    for key, value, is_op in terms:
        doc_val = doc.get(key, _NOTHING)
        if isinstance(doc_val, (list, tuple)):
            if is_op:
                if not any(item == value for item in doc_val):
                    return False
            elif not (value in doc_val or value == doc_val or (
                    isinstance(value, bson.ObjectId) and str(value) in doc_val)):
                return False
        elif not doc_val == value:
            return False
    return True


def _fast_iter_documents(self, filter):
    ids = _id_candidates(filter)
    terms = None if ids is not None else _simple_equality(filter)
    if ids is None and terms is None:
        return _original_iter_documents(self, filter)
    store = self._store
    if store.is_empty:          # also expires TTL documents, like the original
        filtering.filter_applies(filter, {})
        return iter(())
    documents = store._documents
    if terms is not None:
        # dict.values, not OrderedDict.values: same order (mongomock never
        # reorders _documents), but no per-key lookup, which costs a
        # Python-level ObjectId.__hash__ per document.
        docs = list(dict.values(documents))
        if not terms:
            return iter(docs)
        if len(terms) == 1 and not terms[0][2]:
            key, value, _ = terms[0]
            return iter([doc for doc in docs
                         if doc.get(key, _NOTHING) == value or (
                             isinstance(doc.get(key), (list, tuple)) and
                             _simple_match(doc, terms))])
        return iter([doc for doc in docs if _simple_match(doc, terms)])
    keys = []
    seen = set()
    for value in ids:
        if value in documents and value not in seen:
            seen.add(value)
            keys.append(value)
    if len(keys) > 1:           # restore the natural (insertion) order
        ordered = []
        for key in documents:
            if key in seen:
                ordered.append(key)
                if len(ordered) == len(keys):
                    break
        keys = ordered
    hits = [documents[key] for key in keys]
    if not hits:
        # The full scan would have evaluated (and so validated) the filter.
        filtering.filter_applies(filter, {})
        return iter(())
    return (doc for doc in hits if filtering.filter_applies(filter, doc))


mongomock.collection.Collection._iter_documents = _fast_iter_documents


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------

class CommandError(Exception):
    """An error reply: {ok: 0, errmsg, code, codeName}."""

    def __init__(self, code, errmsg, **extra):
        super().__init__(errmsg)
        self.code = code
        self.errmsg = errmsg
        self.extra = extra


def not_supported(what):
    return CommandError(238, '%s is not supported by the mongomock emulator'
                        % what)


def translate_exception(exc):
    """Map an exception raised by mongomock (or us) to (code, errmsg)."""
    if isinstance(exc, CommandError):
        return exc.code, exc.errmsg
    if isinstance(exc, DuplicateKeyError):
        return 11000, 'E11000 duplicate key error'
    if isinstance(exc, (OperationFailure, PyMongoError)):
        code = getattr(exc, 'code', None)
        msg = str(exc)
        if code == 10026:
            return 26, msg
        if code == 10027:
            return 48, msg
        if not isinstance(code, int):
            if '_id' in msg and ('immutable' in msg or 'changed' in msg):
                return 66, msg
            code = 48 if isinstance(exc, mongomock.CollectionInvalid) else 2
            if isinstance(exc, mongomock.InvalidName):
                code = 73
        return code, msg
    if isinstance(exc, NotImplementedError):
        return 238, 'not supported by the mongomock emulator: %s' % exc
    if isinstance(exc, bson.errors.InvalidDocument):
        return 2, 'invalid document: %s' % exc
    if isinstance(exc, (ValueError, TypeError, KeyError)):
        return 2, '%s: %s' % (type(exc).__name__, exc)
    return 1, 'internal emulator error: %s: %s' % (type(exc).__name__, exc)


def error_doc(code, errmsg, **extra):
    doc = {'ok': 0.0, 'errmsg': errmsg, 'code': code,
           'codeName': CODE_NAMES.get(code, 'Location%d' % code)}
    doc.update(extra)
    return doc


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def id_first(doc):
    """Real servers always return _id as the first field."""
    if isinstance(doc, dict) and '_id' in doc and next(iter(doc)) != '_id':
        out = {'_id': doc['_id']}
        out.update((k, v) for k, v in doc.items() if k != '_id')
        return out
    return doc


def as_int(value, name, default=0):
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CommandError(14, "BSON field '%s' is the wrong type" % name)
    return int(value)


def sort_spec(sort):
    if not sort:
        return None
    if not isinstance(sort, dict):
        raise CommandError(14, 'sort must be a document')
    spec = []
    for key, direction in sort.items():
        if isinstance(direction, dict):
            raise not_supported('sorting by %r' % (direction,))
        if isinstance(direction, str):
            direction = {'asc': 1, 'ascending': 1,
                         'desc': -1, 'descending': -1}.get(direction.lower())
            if direction is None:
                raise CommandError(2, 'bad sort specification')
        spec.append((key, 1 if direction >= 0 else -1))
    return spec


def take_batch(docs, start, batch_size):
    """Encode docs[start:] into a batch of at most batch_size docs / ~16 MB.

    Each document is encoded once and wrapped in RawBSONDocument so encoding
    the reply just copies the bytes.  Returns (batch, next_position).
    """
    batch = []
    size = 0
    pos = start
    total = len(docs)
    while pos < total and (batch_size is None or len(batch) < batch_size):
        raw = bson.encode(id_first(docs[pos]))
        if batch and size + len(raw) > BATCH_BYTE_LIMIT:
            break
        batch.append(RawBSONDocument(raw))
        size += len(raw)
        pos += 1
    return batch, pos


class Cursor(object):
    __slots__ = ('ns', 'docs', 'pos', 'last_used')

    def __init__(self, ns, docs, pos):
        self.ns = ns
        self.docs = docs
        self.pos = pos
        self.last_used = time.monotonic()


# --------------------------------------------------------------------------
# Command implementation
# --------------------------------------------------------------------------

class Engine(object):
    """Executes command documents against a mongomock client.

    Callers hold ``self.lock`` around ``run`` (one command at a time).
    """

    def __init__(self):
        self.client = mongomock.MongoClient()
        self.lock = threading.Lock()
        self.cursors = {}
        self.collection_options = {}
        self.started = time.time()
        self.handlers = {}
        for attr in dir(self):
            if attr.startswith('cmd_'):
                self.handlers[attr[4:].lower()] = getattr(self, attr)
        aliases = {'ismaster': 'hello', 'findandmodify': 'findandmodify',
                   'deleteindexes': 'dropindexes'}
        for alias, target in aliases.items():
            self.handlers[alias] = self.handlers[target]

    # ---- plumbing -------------------------------------------------------

    def handler_for(self, name):
        return self.handlers.get(name.lower())

    def coll(self, db, name):
        if not isinstance(name, str) or not name:
            raise CommandError(73, 'Invalid collection name: %r' % (name,))
        return self.client[db][name]

    def store(self, db, name):
        return self.client[db]._store[name]

    def exists(self, db, name):
        return bool(self.store(db, name).is_created)

    def make_cursor_reply(self, ns, docs, batch_size, single_batch=False):
        batch, pos = take_batch(docs, 0, batch_size)
        cursor_id = 0
        if pos < len(docs) and not single_batch:
            self.expire_cursors()
            cursor_id = random.randint(1, 2 ** 62)
            self.cursors[cursor_id] = Cursor(ns, docs, pos)
        return {'cursor': {'firstBatch': batch, 'id': Int64(cursor_id),
                           'ns': ns}, 'ok': 1.0}

    def expire_cursors(self):
        deadline = time.monotonic() - CURSOR_IDLE_TIMEOUT
        for cursor_id in [cid for cid, cur in self.cursors.items()
                          if cur.last_used < deadline]:
            del self.cursors[cursor_id]

    @staticmethod
    def batch_size_of(cmd, default=DEFAULT_FIRST_BATCH):
        cursor_opts = cmd.get('cursor') or {}
        if 'batchSize' in cursor_opts:
            return as_int(cursor_opts['batchSize'], 'batchSize')
        return default

    @staticmethod
    def reject_options(cmd, names):
        for name in names:
            value = cmd.get(name)
            if value not in (None, False, {}, []):
                if name == 'collation' and isinstance(value, dict) and \
                        value.get('locale') == 'simple':
                    continue
                raise not_supported("option '%s'" % name)

    def dup_key_error(self, index, coll, doc, errmsg_tail=''):
        """writeError for a duplicate key, naming the index when possible."""
        ns = coll.full_name
        err = {'index': index, 'code': 11000}
        store = coll._store
        culprit = None
        if doc is not None:
            if _store_key(doc.get('_id')) in store._documents:
                culprit = ('_id_', [('_id', 1)])
            else:
                for name, info in store.indexes.items():
                    if not info.get('unique'):
                        continue
                    fields = [f for f, _ in info['key']]
                    values = _index_key(doc, fields)
                    for other in store._documents.values():
                        if _index_key(other, fields) == values:
                            culprit = (name, info['key'])
                            break
                    if culprit:
                        break
        if culprit:
            name, key = culprit
            values = _index_key(doc, [f for f, _ in key])
            err['keyPattern'] = dict(key)
            err['keyValue'] = dict(zip([f for f, _ in key], values))
            err['errmsg'] = ('E11000 duplicate key error collection: %s '
                             'index: %s dup key: %s' % (
                                 ns, name, json_util.dumps(err['keyValue'])))
        else:
            err['errmsg'] = ('E11000 duplicate key error collection: %s%s'
                             % (ns, errmsg_tail))
        return err

    def write_error(self, index, exc, coll, doc=None):
        if isinstance(exc, DuplicateKeyError):
            return self.dup_key_error(index, coll, doc)
        code, errmsg = translate_exception(exc)
        return {'index': index, 'code': code, 'errmsg': errmsg}

    def run(self, db, name, cmd):
        if ('startTransaction' in cmd or 'autocommit' in cmd or
                name.lower() in ('committransaction', 'aborttransaction')):
            raise CommandError(263, NO_TXN_MSG)
        handler = self.handler_for(name)
        if handler is None:
            raise CommandError(59, "no such command: '%s'" % name)
        return handler(db, cmd)

    # ---- handshake / server info ---------------------------------------

    def hello_doc(self, name, connection_id):
        doc = {
            'helloOk': True,
            'isWritablePrimary': True,
            'maxBsonObjectSize': MAX_BSON_SIZE,
            'maxMessageSizeBytes': MAX_MESSAGE_SIZE,
            'maxWriteBatchSize': MAX_WRITE_BATCH,
            'localTime': datetime.datetime.utcnow(),
            'logicalSessionTimeoutMinutes': 30,
            'connectionId': connection_id,
            'minWireVersion': 0,
            'maxWireVersion': MAX_WIRE_VERSION,
            'readOnly': False,
            'ok': 1.0,
        }
        if name.lower() == 'ismaster':
            doc['ismaster'] = True
        return doc

    def cmd_hello(self, db, cmd):  # answered in the server loop
        return self.hello_doc('hello', 0)

    def cmd_ping(self, db, cmd):
        return {'ok': 1.0}

    def cmd_buildinfo(self, db, cmd):
        return {'version': SERVER_VERSION, 'gitVersion': 'mongomock-emulator',
                'versionArray': [int(x) for x in SERVER_VERSION.split('.')] + [0],
                'bits': 64, 'debug': False, 'maxBsonObjectSize': MAX_BSON_SIZE,
                'storageEngines': ['ephemeralForTest'], 'modules': [],
                'javascriptEngine': 'none', 'ok': 1.0}

    def cmd_serverstatus(self, db, cmd):
        return {'host': socket.gethostname(), 'version': SERVER_VERSION,
                'process': 'mongo_emulator', 'pid': Int64(os.getpid()),
                'uptime': float(time.time() - self.started),
                'localTime': datetime.datetime.utcnow(),
                'connections': {'current': threading.active_count() - 2},
                'storageEngine': {'name': 'ephemeralForTest'}, 'ok': 1.0}

    def cmd_hostinfo(self, db, cmd):
        return {'system': {'hostname': socket.gethostname()},
                'os': {'type': sys.platform}, 'extra': {}, 'ok': 1.0}

    def cmd_getparameter(self, db, cmd):
        params = {'featureCompatibilityVersion': {'version': '7.0'},
                  'authenticationMechanisms': [],
                  'cursorTimeoutMillis': Int64(int(CURSOR_IDLE_TIMEOUT * 1000))}
        if cmd.get('getParameter') == '*':
            out = dict(params)
        else:
            out = {k: v for k, v in params.items() if k in cmd}
        out['ok'] = 1.0
        return out

    def cmd_getcmdlineopts(self, db, cmd):
        # mongod shows passwords given on its command line as "<password>".
        argv = [('<password>' if prev == '--password' else arg)
                for prev, arg in zip([None] + sys.argv, sys.argv)]
        return {'argv': argv, 'parsed': {}, 'ok': 1.0}

    def cmd_whatsmyuri(self, db, cmd):
        return {'you': '127.0.0.1:0', 'ok': 1.0}

    def cmd_getlog(self, db, cmd):
        return {'totalLinesWritten': 0, 'log': [], 'ok': 1.0}

    def cmd_connectionstatus(self, db, cmd):
        return {'authInfo': {'authenticatedUsers': [],
                             'authenticatedUserRoles': []}, 'ok': 1.0}

    def cmd_endsessions(self, db, cmd):
        return {'ok': 1.0}

    cmd_refreshsessions = cmd_killsessions = cmd_killallsessions = cmd_endsessions

    def cmd_listcommands(self, db, cmd):
        return {'commands': {name: {} for name in sorted(self.handlers)},
                'ok': 1.0}

    def cmd_explain(self, db, cmd):
        raise not_supported('explain')

    # ---- CRUD -------------------------------------------------------------

    def cmd_insert(self, db, cmd):
        coll = self.coll(db, cmd['insert'])
        docs = cmd.get('documents') or []
        ordered = cmd.get('ordered', True)
        inserted = 0
        write_errors = []
        for index, doc in enumerate(docs):
            try:
                coll.insert_one(doc)
                inserted += 1
            except Exception as exc:  # noqa: BLE001 - reported per document
                write_errors.append(self.write_error(index, exc, coll, doc))
                if ordered:
                    break
        reply = {'n': inserted, 'ok': 1.0}
        if write_errors:
            reply['writeErrors'] = write_errors
        return reply

    def apply_update(self, coll, query, update, upsert, multi):
        """Run one update statement; returns mongomock's raw result."""
        if isinstance(update, list):
            raise not_supported('pipeline-style update')
        if not isinstance(update, dict):
            raise CommandError(9, 'update must be a document')
        is_replacement = not any(k.startswith('$') for k in update)
        if is_replacement and multi:
            raise CommandError(
                9, 'multi update is not supported for replacement-style update')
        if not isinstance(query, dict):
            raise CommandError(14, 'query must be a document')
        return coll._update(query, update, upsert=bool(upsert),
                            multi=bool(multi))

    def cmd_update(self, db, cmd):
        coll = self.coll(db, cmd['update'])
        ordered = cmd.get('ordered', True)
        matched = modified = 0
        upserted = []
        write_errors = []
        for index, stmt in enumerate(cmd.get('updates') or []):
            try:
                self.reject_options(stmt, ('arrayFilters', 'collation'))
                result = self.apply_update(
                    coll, stmt.get('q', {}), stmt.get('u'),
                    stmt.get('upsert', False), stmt.get('multi', False))
                matched += result['n']
                modified += result['nModified']
                if stmt.get('upsert') and not result['updatedExisting'] \
                        and result['n']:
                    upserted.append({'index': index, '_id': result['upserted']})
            except Exception as exc:  # noqa: BLE001
                if isinstance(exc, DuplicateKeyError):
                    write_errors.append(self.dup_key_error(index, coll, None))
                else:
                    write_errors.append(self.write_error(index, exc, coll))
                if ordered:
                    break
        reply = {'n': matched, 'nModified': modified, 'ok': 1.0}
        if upserted:
            reply['upserted'] = upserted
        if write_errors:
            reply['writeErrors'] = write_errors
        return reply

    def cmd_delete(self, db, cmd):
        coll = self.coll(db, cmd['delete'])
        ordered = cmd.get('ordered', True)
        deleted = 0
        write_errors = []
        for index, stmt in enumerate(cmd.get('deletes') or []):
            try:
                self.reject_options(stmt, ('collation',))
                query = stmt.get('q', {})
                if as_int(stmt.get('limit', 0), 'limit') == 1:
                    deleted += coll.delete_one(query).deleted_count
                else:
                    deleted += coll.delete_many(query).deleted_count
            except Exception as exc:  # noqa: BLE001
                write_errors.append(self.write_error(index, exc, coll))
                if ordered:
                    break
        reply = {'n': deleted, 'ok': 1.0}
        if write_errors:
            reply['writeErrors'] = write_errors
        return reply

    def cmd_find(self, db, cmd):
        name = cmd['find']
        coll = self.coll(db, name)
        self.reject_options(cmd, ('collation', 'tailable', 'awaitData', 'min',
                                  'max', 'returnKey', 'showRecordId', 'let'))
        query = cmd.get('filter') or {}
        projection = cmd.get('projection') or None
        skip = as_int(cmd.get('skip'), 'skip')
        limit = as_int(cmd.get('limit'), 'limit')
        single_batch = bool(cmd.get('singleBatch')) or limit < 0
        limit = abs(limit)
        batch_size = cmd.get('batchSize')
        batch_size = DEFAULT_FIRST_BATCH if batch_size is None else \
            as_int(batch_size, 'batchSize')
        if limit and (batch_size > limit or batch_size == 0):
            batch_size = limit
        docs = list(coll.find(query, projection=dict(projection) if projection
                              else None, skip=skip, limit=limit,
                              sort=sort_spec(cmd.get('sort'))))
        return self.make_cursor_reply('%s.%s' % (db, name), docs, batch_size,
                                      single_batch)

    def cmd_getmore(self, db, cmd):
        cursor_id = int(cmd['getMore'])
        cursor = self.cursors.get(cursor_id)
        if cursor is None:
            raise CommandError(43, 'cursor id %d not found' % cursor_id)
        batch_size = cmd.get('batchSize')
        batch_size = as_int(batch_size, 'batchSize') if batch_size else None
        batch, cursor.pos = take_batch(cursor.docs, cursor.pos, batch_size)
        cursor.last_used = time.monotonic()
        if cursor.pos >= len(cursor.docs):
            del self.cursors[cursor_id]
            cursor_id = 0
        return {'cursor': {'nextBatch': batch, 'id': Int64(cursor_id),
                           'ns': cursor.ns}, 'ok': 1.0}

    def cmd_killcursors(self, db, cmd):
        killed, not_found = [], []
        for cursor_id in cmd.get('cursors') or []:
            if self.cursors.pop(int(cursor_id), None) is not None:
                killed.append(Int64(cursor_id))
            else:
                not_found.append(Int64(cursor_id))
        return {'cursorsKilled': killed, 'cursorsNotFound': not_found,
                'cursorsAlive': [], 'cursorsUnknown': [], 'ok': 1.0}

    def cmd_count(self, db, cmd):
        coll = self.coll(db, cmd['count'])
        self.reject_options(cmd, ('collation',))
        count = coll.count_documents(cmd.get('query') or {})
        count = max(count - as_int(cmd.get('skip'), 'skip'), 0)
        limit = abs(as_int(cmd.get('limit'), 'limit'))
        if limit:
            count = min(count, limit)
        return {'n': count, 'ok': 1.0}

    def cmd_distinct(self, db, cmd):
        coll = self.coll(db, cmd['distinct'])
        self.reject_options(cmd, ('collation',))
        key = cmd.get('key')
        if not isinstance(key, str):
            raise CommandError(14, "BSON field 'distinct.key' must be a string")
        values = coll.distinct(key, cmd.get('query') or None)
        return {'values': values, 'ok': 1.0}

    def cmd_aggregate(self, db, cmd):
        target = cmd['aggregate']
        pipeline = cmd.get('pipeline')
        if not isinstance(pipeline, list):
            raise CommandError(14, "'pipeline' option must be an array")
        if target == 1:
            raise not_supported('database-level aggregate')
        self.reject_options(cmd, ('explain', 'collation', 'let'))
        if 'cursor' not in cmd:
            raise CommandError(9, "The 'cursor' option is required")
        coll = self.coll(db, target)
        docs = list(coll.aggregate(pipeline))
        return self.make_cursor_reply('%s.%s' % (db, target), docs,
                                      self.batch_size_of(cmd))

    @staticmethod
    def project(coll, doc, fields):
        if doc is None:
            return None
        if fields:
            doc = coll._copy_only_fields(doc, dict(fields), dict)
        return id_first(doc)

    def cmd_findandmodify(self, db, cmd):
        name = cmd.get('findAndModify', cmd.get('findandmodify'))
        coll = self.coll(db, name)
        self.reject_options(cmd, ('arrayFilters', 'collation', 'let'))
        query = cmd.get('query') or {}
        update = cmd.get('update')
        remove = bool(cmd.get('remove'))
        new = bool(cmd.get('new'))
        upsert = bool(cmd.get('upsert'))
        fields = cmd.get('fields') or None
        if remove and update is not None:
            raise CommandError(9, 'Cannot specify both an update and remove=true')
        if remove and new:
            raise CommandError(9, "Cannot specify both new=true and remove=true;"
                               " 'remove' always returns the deleted document")
        if not remove and update is None:
            raise CommandError(9, 'Either an update or remove=true must be specified')
        if remove and upsert:
            raise CommandError(9, 'Cannot specify both upsert=true and remove=true')

        found = list(coll.find(query, sort=sort_spec(cmd.get('sort')), limit=1))
        target = found[0] if found else None
        if remove:
            if target is not None:
                coll.delete_one({'_id': target['_id']})
            return {'lastErrorObject': {'n': 1 if target else 0},
                    'value': self.project(coll, target, fields), 'ok': 1.0}

        if target is not None:
            target_id = target['_id']
            # Keep the caller's query shape (mongomock needs it for the
            # positional '$' operator) but pin the document chosen by sort.
            if '_id' not in query:
                spec = dict(query, _id=target_id)
            elif not isinstance(query['_id'], dict):
                spec = query
            else:
                spec = {'$and': [query, {'_id': target_id}]}
            try:
                self.apply_update(coll, spec, update, False, False)
            except DuplicateKeyError:
                raise CommandError(11000, self.dup_key_error(0, coll, None)['errmsg'])
            after = coll.find_one({'_id': target_id}) if new else target
            return {'lastErrorObject': {'n': 1, 'updatedExisting': True},
                    'value': self.project(coll, after, fields), 'ok': 1.0}

        if not upsert:
            return {'lastErrorObject': {'n': 0, 'updatedExisting': False},
                    'value': None, 'ok': 1.0}
        try:
            result = self.apply_update(coll, query, update, True, False)
        except DuplicateKeyError:
            raise CommandError(11000, self.dup_key_error(0, coll, None)['errmsg'])
        upserted_id = result['upserted']
        value = coll.find_one({'_id': upserted_id}) if new else None
        return {'lastErrorObject': {'n': 1, 'updatedExisting': False,
                                    'upserted': upserted_id},
                'value': self.project(coll, value, fields), 'ok': 1.0}

    # ---- indexes ------------------------------------------------------------

    @staticmethod
    def index_options(spec):
        opts = {}
        for opt in ('unique', 'sparse'):
            if spec.get(opt):
                opts[opt] = True
        if spec.get('expireAfterSeconds') is not None:
            opts['expireAfterSeconds'] = spec['expireAfterSeconds']
        if spec.get('partialFilterExpression') is not None:
            opts['partialFilterExpression'] = spec['partialFilterExpression']
        return opts

    def cmd_createindexes(self, db, cmd):
        name = cmd['createIndexes']
        coll = self.coll(db, name)
        store = coll._store
        existed = bool(store.is_created)
        before = 1 + len(store.indexes) if existed else 0
        specs = cmd.get('indexes')
        if not isinstance(specs, list) or not specs:
            raise CommandError(2, "Must specify at least one index to create")
        store.create()
        created = 0
        for spec in specs:
            key = spec.get('key')
            if not isinstance(key, dict) or not key:
                raise CommandError(67, 'index key pattern must be a non-empty document')
            self.reject_options(spec, ('collation', 'hidden', 'wildcardProjection'))
            key_list = [(field, direction) for field, direction in key.items()]
            index_name = spec.get('name') or helpers.gen_index_name(key_list)
            opts = self.index_options(spec)
            if key_list == [('_id', 1)] or index_name == '_id_':
                continue
            existing = store.indexes.get(index_name)
            if existing is not None:
                if list(existing['key']) != key_list:
                    raise CommandError(
                        86, 'An existing index has the same name as the '
                        'requested index but a different key: %s' % index_name)
                if {k: v for k, v in existing.items() if k != 'key'} != opts:
                    raise CommandError(
                        85, 'An existing index has the same name as the '
                        'requested index but different options: %s' % index_name)
                continue
            for other_name, other in store.indexes.items():
                if list(other['key']) == key_list:
                    raise CommandError(
                        85, 'Index already exists with a different name: %s'
                        % other_name)
            try:
                coll.create_index(key_list, name=index_name, **opts)
            except DuplicateKeyError:
                raise CommandError(
                    11000, 'Index build failed: E11000 duplicate key error '
                    'collection: %s index: %s' % (coll.full_name, index_name))
            created += 1
        reply = {'createdCollectionAutomatically': not existed,
                 'numIndexesBefore': before,
                 'numIndexesAfter': 1 + len(store.indexes), 'ok': 1.0}
        if not created:
            reply['note'] = 'all indexes already exist'
        return reply

    def index_docs(self, store):
        docs = [{'v': 2, 'key': {'_id': 1}, 'name': '_id_'}]
        for name, info in store.indexes.items():
            doc = {'v': 2, 'key': dict(info['key']), 'name': name}
            doc.update((k, v) for k, v in info.items() if k != 'key')
            docs.append(doc)
        return docs

    def cmd_listindexes(self, db, cmd):
        name = cmd['listIndexes']
        if not self.exists(db, name):
            raise CommandError(26, 'ns does not exist: %s.%s' % (db, name))
        return self.make_cursor_reply('%s.%s' % (db, name),
                                      self.index_docs(self.store(db, name)),
                                      self.batch_size_of(cmd))

    def cmd_dropindexes(self, db, cmd):
        name = cmd.get('dropIndexes', cmd.get('deleteIndexes'))
        if not self.exists(db, name):
            raise CommandError(26, 'ns not found %s.%s' % (db, name))
        store = self.store(db, name)
        was = 1 + len(store.indexes)
        target = cmd.get('index')
        if target == '*':
            names = list(store.indexes)
        elif isinstance(target, str):
            names = [target]
        elif isinstance(target, list):
            names = list(target)
        elif isinstance(target, dict):
            key_list = list(target.items())
            names = [n for n, info in store.indexes.items()
                     if list(info['key']) == key_list]
            if key_list == [('_id', 1)]:
                names = ['_id_']
            if not names:
                raise CommandError(27, "can't find index with key: %s"
                                   % json_util.dumps(target))
        else:
            raise CommandError(14, "BSON field 'dropIndexes.index' is the wrong type")
        for index_name in names:
            if index_name == '_id_':
                raise CommandError(72, 'cannot drop _id index')
            if index_name not in store.indexes:
                raise CommandError(27, 'index not found with name [%s]' % index_name)
        for index_name in names:
            store.drop_index(index_name)
        store.create()  # the collection outlives its indexes
        return {'nIndexesWas': was, 'ok': 1.0}

    # ---- collections / databases -----------------------------------------

    def cmd_listcollections(self, db, cmd):
        database = self.client[db]
        name_only = bool(cmd.get('nameOnly'))
        query = cmd.get('filter') or {}
        entries = []
        for name in sorted(database._store.list_created_collection_names()):
            if name_only:
                entry = {'name': name, 'type': 'collection'}
            else:
                entry = {'name': name, 'type': 'collection',
                         'options': self.collection_options.get((db, name), {}),
                         'info': {'readOnly': False},
                         'idIndex': {'v': 2, 'key': {'_id': 1}, 'name': '_id_'}}
            if not query or filtering.filter_applies(query, entry):
                entries.append(entry)
        return self.make_cursor_reply('%s.$cmd.listCollections' % db, entries,
                                      self.batch_size_of(cmd, None))

    def cmd_create(self, db, cmd):
        name = cmd['create']
        self.coll(db, name)  # validates the name
        options = {k: v for k, v in cmd.items()
                   if k != 'create' and not k.startswith('$')
                   and k not in ('lsid', 'writeConcern', 'comment',
                                 'txnNumber', 'apiVersion', 'apiStrict',
                                 'apiDeprecationErrors')}
        self.reject_options(options, (
            'capped', 'timeseries', 'viewOn', 'pipeline', 'clusteredIndex',
            'collation', 'changeStreamPreAndPostImages', 'encryptedFields',
            'expireAfterSeconds', 'size', 'max'))
        if self.exists(db, name):
            raise CommandError(48, 'Collection %s.%s already exists.' % (db, name))
        self.client[db]._store.create_collection(name)
        # validator/validationLevel/validationAction: accepted, not enforced.
        self.collection_options[(db, name)] = options
        return {'ok': 1.0}

    def cmd_drop(self, db, cmd):
        name = cmd['drop']
        if not self.exists(db, name):
            raise CommandError(26, 'ns not found')
        store = self.store(db, name)
        was = 1 + len(store.indexes)
        self.client[db].drop_collection(name)
        store.__dict__.pop('_emulator_unique_cache', None)
        self.collection_options.pop((db, name), None)
        return {'nIndexesWas': was, 'ns': '%s.%s' % (db, name), 'ok': 1.0}

    def cmd_dropdatabase(self, db, cmd):
        self.client.drop_database(db)
        for key in [k for k in self.collection_options if k[0] == db]:
            del self.collection_options[key]
        return {'dropped': db, 'ok': 1.0}

    def coll_size(self, store):
        return sum(len(bson.encode(doc)) for doc in list(store._documents.values()))

    def cmd_listdatabases(self, db, cmd):
        query = cmd.get('filter') or {}
        entries = []
        total = 0
        for name in sorted(self.client._store.list_created_database_names()):
            db_store = self.client._store[name]
            if cmd.get('nameOnly'):
                entry = {'name': name}
            else:
                size = sum(self.coll_size(db_store[c])
                           for c in db_store.list_created_collection_names())
                total += size
                entry = {'name': name, 'sizeOnDisk': Int64(size),
                         'empty': size == 0}
            if not query or filtering.filter_applies(query, entry):
                entries.append(entry)
        reply = {'databases': entries, 'ok': 1.0}
        if not cmd.get('nameOnly'):
            reply['totalSize'] = Int64(total)
            reply['totalSizeMb'] = Int64(total // (1024 * 1024))
        return reply

    def cmd_renamecollection(self, db, cmd):
        source, target = cmd.get('renameCollection'), cmd.get('to')
        if not isinstance(source, str) or not isinstance(target, str) \
                or '.' not in source or '.' not in target:
            raise CommandError(73, 'Invalid namespace')
        src_db, src_name = source.split('.', 1)
        dst_db, dst_name = target.split('.', 1)
        if src_db != dst_db:
            raise not_supported('renaming a collection across databases')
        if not self.exists(src_db, src_name):
            raise CommandError(26, 'Source collection %s does not exist' % source)
        if self.exists(dst_db, dst_name):
            if not cmd.get('dropTarget'):
                raise CommandError(48, 'target namespace exists')
            self.client[dst_db].drop_collection(dst_name)
        self.client[src_db]._store.rename(src_name, dst_name)
        options = self.collection_options.pop((src_db, src_name), None)
        if options is not None:
            self.collection_options[(dst_db, dst_name)] = options
        # drop the cached Collection objects bound to the old names
        self.client[src_db]._collection_accesses.pop(src_name, None)
        self.client[src_db]._collection_accesses.pop(dst_name, None)
        return {'ok': 1.0}

    def cmd_collstats(self, db, cmd):
        name = cmd['collStats']
        if not self.exists(db, name):
            raise CommandError(26, 'ns not found: %s.%s' % (db, name))
        store = self.store(db, name)
        count = len(store._documents)
        size = self.coll_size(store)
        indexes = self.index_docs(store)
        return {'ns': '%s.%s' % (db, name), 'count': count, 'size': size,
                'avgObjSize': size // count if count else 0,
                'storageSize': size, 'nindexes': len(indexes),
                'totalIndexSize': 0,
                'indexSizes': {i['name']: 0 for i in indexes}, 'ok': 1.0}

    def cmd_dbstats(self, db, cmd):
        db_store = self.client._store[db]
        names = db_store.list_created_collection_names()
        objects = sum(len(db_store[n]._documents) for n in names)
        size = sum(self.coll_size(db_store[n]) for n in names)
        return {'db': db, 'collections': len(names), 'views': 0,
                'objects': objects, 'dataSize': float(size),
                'storageSize': float(size),
                'indexes': sum(1 + len(db_store[n].indexes) for n in names),
                'indexSize': 0.0, 'ok': 1.0}


# --------------------------------------------------------------------------
# Authentication (--user/--password): SCRAM as mongod runs it with --auth
# --------------------------------------------------------------------------
# RFC 5802 (SCRAM-SHA-1, with MongoDB's twist: the "password" is the legacy
# MONGODB-CR digest) and RFC 7677 (SCRAM-SHA-256), in the saslStart /
# saslContinue commands and hello's speculativeAuthenticate, with mongod's
# replies and errors (db/auth/sasl_commands.cpp, sasl_scram_server_conversation.cpp).

# mechanism -> (hashlib name, mongod's default iteration count, salt bytes)
SCRAM_MECHANISMS = {'SCRAM-SHA-1': ('sha1', 10000, 16),
                    'SCRAM-SHA-256': ('sha256', 15000, 28)}

# Commands mongod (7.0) runs on a connection that has not authenticated
# (requiresAuth() false); any other known command fails with 13 Unauthorized.
NO_AUTH_NEEDED = {'hello', 'ismaster', 'saslstart', 'saslcontinue', 'ping',
                  'buildinfo', 'listcommands', 'connectionstatus'}


class Connection(object):
    """State of one client socket: mongod authenticates connections, not
    clients, so each socket starts unauthenticated."""
    __slots__ = ('id', 'user', 'sasl')

    def __init__(self, connection_id):
        self.id = connection_id
        self.user = None    # {'user', 'db'} once authenticated
        self.sasl = None    # the SCRAM conversation under way, if any


class _AuthFailed(Exception):
    pass


def _hmac(hash_name, key, msg):
    return hmac.new(key, msg.encode() if isinstance(msg, str) else msg,
                    hash_name).digest()


class Authenticator(object):
    """One user, accepted whatever database the client authenticates against
    (the driver uses the URI's database unless authSource says otherwise; on
    mongod a user lives in one database).  Only what mongod stores is kept:
    per mechanism a random salt, the iteration count, StoredKey and ServerKey.
    """

    def __init__(self, user, password):
        # SASLprep (RFC 4013), which SCRAM-SHA-256 applies to the password,
        # is the identity on printable ASCII: not implemented, so required.
        if not user or not password or \
                not all(' ' <= c <= '~' for c in password):
            raise ValueError('--user must be non-empty and --password '
                             'non-empty printable ASCII')
        self.user = user
        self.credentials = {}
        for mech, (hash_name, iterations, salt_len) in SCRAM_MECHANISMS.items():
            secret = password if mech == 'SCRAM-SHA-256' else hashlib.md5(
                ('%s:mongo:%s' % (user, password)).encode()).hexdigest()
            salt = os.urandom(salt_len)
            salted = hashlib.pbkdf2_hmac(hash_name, secret.encode(), salt,
                                         iterations)
            client_key = _hmac(hash_name, salted, 'Client Key')
            self.credentials[mech] = {
                'hash': hash_name, 'iterations': iterations,
                'salt': base64.b64encode(salt).decode(),
                'stored_key': hashlib.new(hash_name, client_key).digest(),
                'server_key': _hmac(hash_name, salted, 'Server Key')}

    def hello_fields(self, conn, cmd, reply):
        """What hello adds for a client about to authenticate."""
        who = cmd.get('saslSupportedMechs')     # "<db>.<user>"
        if isinstance(who, str) and who.partition('.')[2] == self.user:
            reply['saslSupportedMechs'] = sorted(self.credentials)
        spec = cmd.get('speculativeAuthenticate')
        if isinstance(spec, dict) and 'db' in spec:
            try:
                step = self.run(conn, spec['db'], 'saslstart', spec)
            except CommandError:
                return    # mongod: as if not asked; the driver runs saslStart
            del step['ok']
            reply['speculativeAuthenticate'] = step

    def connection_status(self, conn):
        users = [conn.user] if conn.user else []
        roles = [{'role': 'root', 'db': 'admin'}] if conn.user else []
        return {'authInfo': {'authenticatedUsers': users,
                             'authenticatedUserRoles': roles}, 'ok': 1.0}

    def run(self, conn, db, name, cmd):
        """saslStart / saslContinue; every failure of a step is reported as
        mongod does, without saying why (no user, wrong proof, bad message)."""
        if name == 'saslstart':
            conn.sasl = None
            mech = cmd.get('mechanism')
            if mech not in self.credentials:
                raise CommandError(
                    334, "Unsupported mechanism '%s' on authentication "
                    "database '%s'" % (mech, db))
            step = self.first_step
        else:
            if conn.sasl is None:
                raise CommandError(17, 'No SASL session state found')
            if cmd.get('conversationId') != 1:
                raise CommandError(17, 'sasl: Mismatched conversation id')
            step = self.final_step
        payload = cmd.get('payload')
        as_text = isinstance(payload, str)    # base64 text in, base64 text out
        try:
            message = (base64.b64decode(payload) if as_text
                       else bytes(payload)).decode()
            done, answer = step(conn, db, cmd, message)
        except (_AuthFailed, ValueError, TypeError, KeyError, IndexError):
            conn.sasl = None
            raise CommandError(18, 'Authentication failed.')
        answer = base64.b64encode(answer.encode()).decode() if as_text \
            else bson.Binary(answer.encode())
        return {'conversationId': 1, 'done': done, 'payload': answer, 'ok': 1.0}

    def first_step(self, conn, db, cmd, message):
        # client-first-message: gs2 header "n,," (no channel binding, no
        # authzid), then "n=<user>,r=<client nonce>"; the user is looked up now.
        flag, authzid, bare = message.split(',', 2)
        fields = [f for f in bare.split(',') if f]
        if flag not in ('n', 'y') or not fields[0].startswith('n=') or \
                not fields[1].startswith('r=') or len(fields[1]) < 6:
            raise _AuthFailed()
        user = fields[0][2:].replace('=2C', ',').replace('=3D', '=')
        if user != self.user or authzid not in ('', 'a=' + user):
            raise _AuthFailed()
        creds = self.credentials[cmd['mechanism']]
        nonce = fields[1][2:] + base64.b64encode(os.urandom(24)).decode()
        server_first = 'r=%s,s=%s,i=%d' % (nonce, creds['salt'],
                                          creds['iterations'])
        options = cmd.get('options') or {}
        conn.sasl = {'creds': creds, 'nonce': nonce, 'step': 1, 'db': db,
                     'skip_empty': options.get('skipEmptyExchange') is True,
                     'auth_message': bare + ',' + server_first}
        return False, server_first

    def final_step(self, conn, db, cmd, message):
        sasl = conn.sasl
        if sasl['step'] == 2:     # the empty round a client without
            conn.sasl = None      # skipEmptyExchange sends after v=...
            conn.user = {'user': self.user, 'db': sasl['db']}
            return True, ''
        # client-final-message: "c=biws,r=<nonce>,p=<ClientProof>"
        without_proof, _, proof = message.rpartition(',')
        fields = without_proof.split(',')
        if not proof.startswith('p=') or not fields[0].startswith('c=') or \
                fields[1] != 'r=' + sasl['nonce']:
            raise _AuthFailed()
        creds = sasl['creds']
        auth_message = sasl['auth_message'] + ',' + without_proof
        signature = _hmac(creds['hash'], creds['stored_key'], auth_message)
        client_key = bytes(a ^ b for a, b in
                           zip(base64.b64decode(proof[2:]), signature))
        if len(client_key) != len(signature) or not hmac.compare_digest(
                hashlib.new(creds['hash'], client_key).digest(),
                creds['stored_key']):
            raise _AuthFailed()
        verifier = 'v=' + base64.b64encode(_hmac(
            creds['hash'], creds['server_key'], auth_message)).decode()
        if sasl['skip_empty']:
            conn.sasl = None
            conn.user = {'user': self.user, 'db': sasl['db']}
            return True, verifier
        sasl['step'] = 2
        return False, verifier


# --------------------------------------------------------------------------
# Wire protocol server
# --------------------------------------------------------------------------

# Commands answered without taking the engine lock.
LOCK_FREE = {'hello', 'ismaster', 'ping', 'buildinfo', 'endsessions',
             'getparameter', 'serverstatus', 'hostinfo', 'whatsmyuri',
             'getlog', 'connectionstatus', 'getcmdlineopts', 'listcommands'}

# Fields of the command envelope that are meaningless for the emulator.
IGNORED_FIELDS = ('lsid', 'txnNumber', '$clusterTime', '$readPreference',
                  '$db', 'readConcern', 'writeConcern', 'apiVersion',
                  'apiStrict', 'apiDeprecationErrors', 'maxTimeMS', 'comment',
                  '$audit', 'bypassDocumentValidation')


class EmulatorServer(mockupdb.MockupDB):
    """MockupDB whose per-connection loop dispatches to an Engine.

    mockupdb's own loop queues requests for a test to pop and logs every
    message (JSON-dumping whole payloads even when not verbose); we keep its
    listener, accept loop and message classes but answer directly.
    """

    def __init__(self, host, port, engine, verbose=False, auth=None):
        super().__init__(port=port, verbose=False)
        self._address = (host, port)   # MockupDB hardcodes 'localhost'
        self.engine = engine
        self.auth = auth               # an Authenticator, or None: no auth
        self.log_commands = verbose
        self._connection_ids = itertools.count(1)

    def log(self, msg):
        sys.stderr.write('mongo_emulator: %s\n' % msg)
        sys.stderr.flush()

    def _server_loop(self, client, client_addr):
        # One thread per socket (mockupdb's accept loop): its state lives here.
        conn = Connection(next(self._connection_ids))
        try:
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        while not self._stopped:
            try:
                request = mockupdb.mock_server_receive_request(client, self)
            except (OSError, socket.error):
                break
            except Exception as exc:  # noqa: BLE001 - unparsable message
                self.log('closing connection %d: cannot parse message: %r'
                         % (conn.id, exc))
                break
            try:
                reply = self.handle(request, conn)
                if reply is None:
                    continue
                if isinstance(request, mockupdb.OpMsg):
                    data = mockupdb.OpMsgReply(reply).reply_bytes(request)
                else:
                    data = mockupdb.OpReply(reply).reply_bytes(request)
                client.sendall(data)
            except (OSError, socket.error):
                break
            except Exception as exc:  # noqa: BLE001 - e.g. unencodable reply
                self.log('connection %d: failed to send reply: %r'
                         % (conn.id, exc))
                try:
                    data = mockupdb.OpMsgReply(error_doc(
                        1, 'emulator failed to encode reply: %s' % exc)
                    ).reply_bytes(request) if isinstance(
                        request, mockupdb.OpMsg) else mockupdb.OpReply(
                        error_doc(1, str(exc))).reply_bytes(request)
                    client.sendall(data)
                except Exception:  # noqa: BLE001
                    break
        try:
            client.close()
        except OSError:
            pass

    def handle(self, request, conn):
        """Return the reply document, or None when no reply is expected."""
        if isinstance(request, mockupdb.OpMsg):
            more_to_come = bool(request.flags & mockupdb.OP_MSG_FLAGS['moreToCome'])
        elif isinstance(request, mockupdb.Command):
            more_to_come = False
        elif isinstance(request, mockupdb.OpQuery):
            return {'$err': 'legacy OP_QUERY find is not supported', 'code': 238,
                    'ok': 0.0}
        else:
            self.log('ignoring legacy opcode %r' % type(request).__name__)
            return None

        cmd = dict(request.doc)
        if len(cmd) == 1 and '$query' in cmd:     # legacy OP_QUERY wrapper
            cmd = dict(cmd['$query'])
        db = request.namespace or 'admin'
        if not cmd:
            return error_doc(9, 'empty command')
        name = next(iter(cmd))
        started = time.monotonic()
        auth = self.auth
        try:
            lname = name.lower()
            # Like mongod: an unknown command is CommandNotFound even before
            # authentication, a known one needs it unless NO_AUTH_NEEDED.
            if auth is not None and conn.user is None and \
                    lname not in NO_AUTH_NEEDED and \
                    self.engine.handler_for(name) is not None:
                raise CommandError(13, 'Command %s requires authentication'
                                   % name)
            if lname in ('hello', 'ismaster'):
                reply = self.engine.hello_doc(name, conn.id)
                if auth is not None:
                    auth.hello_fields(conn, cmd, reply)
            elif auth is not None and lname in ('saslstart', 'saslcontinue'):
                reply = auth.run(conn, db, lname, cmd)
            elif auth is not None and lname == 'connectionstatus':
                reply = auth.connection_status(conn)
            elif lname in LOCK_FREE:
                reply = self.engine.run(db, name, cmd)
            else:
                for field in IGNORED_FIELDS:
                    cmd.pop(field, None)
                with self.engine.lock:
                    reply = self.engine.run(db, name, cmd)
        except Exception as exc:  # noqa: BLE001 - always answer the client
            code, errmsg = translate_exception(exc)
            extra = exc.extra if isinstance(exc, CommandError) else {}
            reply = error_doc(code, errmsg, **extra)
            if code == 1:
                self.log('internal error in %s: %s' % (
                    name, traceback.format_exc()))
        if self.log_commands:
            status = 'ok' if reply.get('ok') else 'error %s %s' % (
                reply.get('code'), reply.get('errmsg'))
            target = cmd.get(name)
            self.log('[conn%d] %s.%s %s -> %s (%.1f ms)' % (
                conn.id, db, name,
                target if isinstance(target, str) else '', status,
                (time.monotonic() - started) * 1000))
        return None if more_to_come else reply

    def shutdown(self):
        """Stop accepting and drop all connections (no thread joins)."""
        self._stopped = True
        try:
            self._listening_sock.close()
        except OSError:
            pass
        for sock in list(self._server_socks):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='In-memory MongoDB emulator (mockupdb + mongomock) for tests.')
    parser.add_argument('--port', type=int, default=0,
                        help='TCP port; 0 picks a free one (default)')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--verbose', action='store_true',
                        help='log every command to stderr')
    parser.add_argument('--exit-on-stdin-eof', action='store_true',
                        help='exit when stdin is closed (parent died)')
    parser.add_argument('--user', help='require authentication as this user '
                        '(SCRAM-SHA-256 or SCRAM-SHA-1, any authSource)')
    parser.add_argument('--password', help="the user's password (printable ASCII)")
    args = parser.parse_args(argv)
    auth = None
    if (args.user is None) != (args.password is None):
        parser.error('--user and --password go together')
    if args.user is not None:
        try:
            auth = Authenticator(args.user, args.password)
        except ValueError as exc:
            parser.error(str(exc))

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    server = EmulatorServer(args.host, args.port, Engine(), verbose=args.verbose,
                            auth=auth)
    try:
        port = server.run()
    except OSError as exc:
        sys.stderr.write('mongo_emulator: cannot listen on %s:%s: %s\n'
                         % (args.host, args.port, exc))
        return 2

    if args.exit_on_stdin_eof:
        def watch_stdin():
            # os.read on the raw fd: a daemon thread blocked inside
            # sys.stdin's buffered reader aborts interpreter shutdown.
            try:
                while os.read(0, 65536):
                    pass
            except OSError:
                pass
            stop.set()
        threading.Thread(target=watch_stdin, daemon=True).start()

    sys.stdout.write('MONGO_EMULATOR_READY port=%d\n' % port)
    sys.stdout.flush()
    if args.verbose:
        server.log('listening on %s:%d' % (args.host, port))

    while not stop.wait(1.0):
        pass
    server.shutdown()
    if args.verbose:
        server.log('stopped')
    return 0


if __name__ == '__main__':
    sys.exit(main())
