# DHCPv6 Reconfigure (RFC 8415 18.3.11) with the Reconfigure Key Authentication Protocol
# (RFC 8415 20.4): hands out Reconfigure Keys in Replies, and sends, signs and retransmits
# Reconfigure messages. An object the DHCPv6 server holds (server6.Server6.rc); it shares the
# server's lease table, reply writer and counters, and reads the server identity (DUID and
# the secret the keys are derived from) from the Identity object both hold.
from micropython import const
from ..wire import packet6 as P
from ..state import leases6 as L
from ..wire.md5 import MD5, HMAC_MD5
from ..slot import KIND_UNICAST

# Reconfigure Key Authentication Protocol (RFC 8415 20.4, 21.11)
AUTH_PROTO_RKAP = const(3)
AUTH_ALG_HMAC_MD5 = const(1)
AUTH_RDM_COUNTER = const(0)
RKAP_KEY = const(1)  # auth info type: the Reconfigure Key value, in a Reply
RKAP_HMAC = const(2)  # auth info type: HMAC-MD5 digest, in a Reconfigure
AUTH_LEN = const(28)  # protocol, algorithm, RDM, replay(8), type(1), value(16)
REC_TIMEOUT = const(2)  # RFC 8415 7.6: Reconfigure initial timeout (s)
REC_MAX_RC = const(8)  # RFC 8415 7.6: Reconfigure attempts
MAX_RECONF = const(4)  # Reconfigures in flight at once
CLIENT_PORT = const(546)


J_SERVER6 = const(32)  # journal: DUID length(1), DUID, secret(16), replay epoch(4, optional)
SEQ_MAX = const(0x3FFFFFFF)  # the counter's low word stays a small int on 32-bit boards


class Identity:
    """The server DUID (RFC 8415 11), the secret Reconfigure Keys are derived from, and the
    replay epoch: the high word of the RKAP replay counter (RFC 8415 20.3: strictly
    increasing). The epoch is journaled, and each start takes a higher one, so the counter
    keeps increasing across restarts whether or not the board's clock survived them."""

    def __init__(self):
        self.duid = bytearray(130)
        self.duid_len = 0
        self.secret = bytearray(16)
        self.epoch = 0
        self.rec = bytearray(1 + 130 + 16 + 4)

    def set(self, duid, secret):
        self.duid_len = len(duid)
        P.copy(self.duid, 0, duid, 0, len(duid))
        P.copy(self.secret, 0, secret, 0, 16)

    def apply(self, buf, off, ln):
        """Replay a J_SERVER6 record (older ones carry no epoch). True when it was one."""
        dl = buf[off] if ln else 0
        if ln != dl + 17 and ln != dl + 21 or not 2 <= dl <= len(self.duid):
            return False  # not one we write (a DUID is 2..130 bytes, RFC 8415 11.1; 16.3 drops others)
        self.duid_len = dl
        P.copy(self.duid, 0, buf, off + 1, dl)
        P.copy(self.secret, 0, buf, off + 1 + dl, 16)
        if ln == dl + 21:
            o = off + 17 + dl
            self.epoch = (buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3]
        return True

    def next_epoch(self, now):
        """At start: an epoch above every one used before, and not below the clock (so the
        counter never falls under one an older version sent as engine seconds)."""
        self.epoch = self.epoch + 1 if self.epoch >= now else now

    def stage(self, journal):
        j = self.rec
        dl = self.duid_len
        j[0] = dl
        P.copy(j, 1, self.duid, 0, dl)
        P.copy(j, 1 + dl, self.secret, 0, 16)
        e = self.epoch
        o = 17 + dl
        j[o] = (e >> 24) & 255
        j[o + 1] = (e >> 16) & 255
        j[o + 2] = (e >> 8) & 255
        j[o + 3] = e & 255
        journal.append(J_SERVER6, j, 0, 21 + dl)

    def hex(self):
        return "".join("%02x" % self.duid[i] for i in range(self.duid_len))


class Reconfigure6:
    def __init__(self, leases, writer, msg, ident, stats):
        self.leases = leases
        self.w = writer
        self.msg = msg
        self.ident = ident
        self.stats = stats
        self.md5 = MD5()
        self.hmac = HMAC_MD5()
        self.rkey = bytearray(16)  # the Reconfigure Key of the client being answered
        self.seq = 0  # the replay counter's low word, within the identity's epoch
        # Reconfigures in flight: record, message type, transmissions, deadline, timeout
        self.rc_rec = [-1] * MAX_RECONF
        self.rc_type = [0] * MAX_RECONF
        self.rc_count = [0] * MAX_RECONF
        self.rc_due = [0] * MAX_RECONF
        self.rc_rt = [0] * MAX_RECONF
        # the client each one is for (key length, key): a record may change hands meanwhile
        self.rc_key = bytearray(MAX_RECONF * (1 + L.KEYMAX))
        self.duid = bytearray(L.KEYMAX)  # scratch: a record's DUID, read out of the table

    def deadline(self):
        best = None
        for i in range(MAX_RECONF):
            if self.rc_rec[i] >= 0 and (best is None or self.rc_due[i] < best):
                best = self.rc_due[i]
        return best

    def timer(self, now, out):
        for i in range(MAX_RECONF):
            r = self.rc_rec[i]
            if r < 0 or self.rc_due[i] > now:
                continue
            if self.rc_count[i] >= REC_MAX_RC or not self._same_holder(i, r):
                self.rc_rec[i] = -1  # no answer, or the lease left that client
                self.stats["reconfigure_gave_up"] += 1
                continue
            n = self._message(r, self.rc_type[i], now, out)
            self.rc_count[i] += 1
            self.rc_due[i] = now + self.rc_rt[i]
            self.rc_rt[i] *= 2  # RFC 8415 15: RT doubles, MRT 0, MRC REC_MAX_RC
            if n:
                return n
        return 0

    def accepted(self):
        """The client sent Reconfigure Accept and its DUID fits our record (we must be able
        to name it in a Reconfigure's Client-Id)."""
        msg = self.msg
        return msg.has(P.OPT_RECONF_ACCEPT) and self.leases.ckeylen <= L.KEYMAX and msg.mtype != P.INFO_REQUEST

    def key_option(self, now):
        """Reply: Reconfigure Accept and the client's Reconfigure Key (RKAP type 1)."""
        if not self.accepted():
            return
        w = self.w
        if not w.room(4 + AUTH_LEN + 4):
            return
        self._derive_key(self.leases.key, 0, self.leases.ckeylen)
        w.put_empty(P.OPT_RECONF_ACCEPT)
        h = w.begin(P.OPT_AUTH, AUTH_LEN)
        self._auth_head()
        w.byte(RKAP_KEY)
        w.raw(self.rkey, 0, 16)
        w.end(h)
        self.stats["reconfigure_key_sent"] += 1

    def _auth_head(self):
        """Protocol, algorithm, RDM and the 8-byte replay counter (RFC 8415 20.3, 20.4):
        the identity's epoch, then a sequence that only grows within it."""
        w = self.w
        w.byte(AUTH_PROTO_RKAP)
        w.byte(AUTH_ALG_HMAC_MD5)
        w.byte(AUTH_RDM_COUNTER)
        if self.seq >= SEQ_MAX:  # once in 2**30 Auth options: a new epoch, journaled first
            self.ident.epoch += 1
            self.ident.stage(self.leases.journal)
            self.seq = 0
        self.seq += 1
        w.u32(self.ident.epoch)
        w.u32(self.seq)

    def _derive_key(self, duid, off, ln):
        """Reconfigure Key = MD5(secret | DUID): stable per client, nothing stored per lease."""
        m = self.md5
        m.update(self.ident.secret, 0, 16)
        m.update(duid, off, ln)
        m.digest_into(self.rkey, 0)

    def send(self, a, off, plen, msgtype, now):
        """Operator command: send a Reconfigure (msg-type Renew or Information-request) to
        the client holding address/prefix a[off:]/plen. Raises ValueError when that client
        cannot be reconfigured. Allocates (not on the packet path)."""
        if msgtype not in (P.RENEW, P.REBIND, P.INFO_REQUEST):  # RFC 8415 21.19
            raise ValueError("Reconfigure asks for Renew (5), Rebind (6) or Information-request (11)")
        lt = self.leases
        r = lt.find_addr(a, off, plen)
        if r < 0 or lt.state(r) != L.BOUND or not 0 < lt.keylen(r) <= L.KEYMAX:
            raise ValueError("no bound lease for that address")
        if not lt.flags(r) & L.F_RECONF:
            raise ValueError("that client never sent Reconfigure Accept")
        if lt.flags(r) & L.F_RELAYED:
            raise ValueError("that client is behind a relay (Reconfigure goes to direct clients only)")
        na = self._client_na(r)
        if na < 0:
            raise ValueError("that client has no address to send the Reconfigure to")
        for i in range(MAX_RECONF):
            if self.rc_rec[i] >= 0 and lt.same_client(self.rc_rec[i], na):
                self.rc_rec[i] = -1  # a new command replaces the one in flight
        for i in range(MAX_RECONF):
            if self.rc_rec[i] < 0:
                self.rc_rec[i] = na
                self.rc_type[i] = msgtype
                self.rc_count[i] = 0
                self.rc_due[i] = now
                self.rc_rt[i] = REC_TIMEOUT
                k = i * (1 + L.KEYMAX)
                self.rc_key[k] = lt.key_into(na, self.rc_key, k + 1)
                return na
        raise ValueError("%d Reconfigures already in flight" % MAX_RECONF)

    def _same_holder(self, i, r):
        """Does record r still belong to the client slot i's Reconfigure was asked for?"""
        k = i * (1 + L.KEYMAX)
        return self.leases.key_into(r, self.duid) == self.rc_key[k] and P.eq(self.duid, 0, self.rc_key, k + 1, L.KEYMAX)

    def _client_na(self, r):
        """A bound IA_NA record of the same client as record r (the Reconfigure's target)."""
        lt = self.leases
        if lt.kind(r) == L.NA:
            return r
        for q in range(lt.used):
            if lt.kind(q) == L.NA and lt.state(q) == L.BOUND and lt.same_client(q, r):
                return q
        return -1

    def pending(self):
        return [(self.rc_rec[i], self.rc_count[i], self.rc_due[i]) for i in range(MAX_RECONF) if self.rc_rec[i] >= 0]

    def answered(self):
        """The client (the table's current client) renews or asks for information: stop
        retransmitting."""
        lt = self.leases
        for i in range(MAX_RECONF):
            r = self.rc_rec[i]
            if r >= 0 and lt.key_is(r, lt.ckeylen):
                self.rc_rec[i] = -1
                self.stats["reconfigure_answered"] += 1

    def _message(self, r, msgtype, now, out):
        """Build a Reconfigure (RFC 8415 18.3.11) for record r into out; HMAC-MD5 over the
        whole message with the digest field zeroed, keyed with the client's Reconfigure Key."""
        lt = self.leases
        duid = self.duid
        klen = lt.key_into(r, duid)
        if lt.state(r) != L.BOUND or not 0 < klen <= L.KEYMAX:  # a DUID we can name whole
            return 0
        b = out.buf
        w = self.w
        b[0] = P.RECONFIGURE
        b[1] = b[2] = b[3] = 0  # transaction-id 0
        w.start(b, P.HDR, len(b))
        w.put(P.OPT_SERVERID, self.ident.duid, 0, self.ident.duid_len)
        w.put(P.OPT_CLIENTID, duid, 0, klen)
        h = w.begin(P.OPT_RECONF_MSG, 1)
        w.byte(msgtype)
        w.end(h)
        h = w.begin(P.OPT_AUTH, AUTH_LEN)
        self._auth_head()
        w.byte(RKAP_HMAC)
        dig = w.pos
        i = 0
        while i < 16:
            b[dig + i] = 0
            i += 1
        w.pos = dig + 16
        w.end(h)
        n = w.pos
        self._derive_key(duid, 0, klen)
        self.hmac.compute(self.rkey, 0, 16, b, 0, n, b, dig)
        out.n = n
        lt.addr_into(r, out.dest, 0)
        out.port = CLIENT_PORT
        out.kind = KIND_UNICAST
        out.ifindex = lt.ifindex(r)
        out.rx_type = 0
        out.tx_type = P.RECONFIGURE
        lt.addr_into(r, out.addr6, 0)
        P.copy(out.hw, 0, duid, klen - 6 if klen >= 6 else 0, 6)
        self.stats["reconfigure_sent"] += 1
        self.stats["tx"] += 1
        return n

