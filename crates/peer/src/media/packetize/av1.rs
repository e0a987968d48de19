//! AV1 (the AOM "RTP Payload Format For AV1", v1.0): a temporal unit's OBUs as OBU elements.
//!
//! Each packet's payload is a one-byte aggregation header (`Z|Y|W W|N|0 0 0`) and OBU elements.
//! An OBU goes without its size field (the element's own length says it), temporal delimiters
//! and tile lists are not sent (§5), an OBU larger than a packet's room is fragmented (`Y` on
//! the packet it leaves, `Z` on the one it continues in). Every element but the last carries a
//! LEB128 length; when a packet has at most three elements `W` counts them and the last goes
//! without one, else `W` is 0 and every element has its length. `N` marks the first packet of a
//! temporal unit that holds a sequence header (where a coded video sequence can begin).

use super::PacketizeError;

/// `obu_type` of a sequence header.
const OBU_SEQUENCE_HEADER: u8 = 1;
/// `obu_type` of a temporal delimiter: not sent.
const OBU_TEMPORAL_DELIMITER: u8 = 2;
/// `obu_type` of a tile list: not sent.
const OBU_TILE_LIST: u8 = 8;
/// Most elements a packet can count in `W`.
const MAX_COUNTED: usize = 3;

/// An OBU as an element carries it: its header (size flag cleared), extension byte, payload.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Obu {
    /// `obu_type`.
    pub kind: u8,
    /// Header, extension and payload, without the size field.
    pub bytes: Vec<u8>,
}

/// The OBUs of a temporal unit in the low-overhead bitstream format (AV1 §5.2): every OBU but
/// the last has `obu_has_size_field` set; the last may run to the end.
pub(super) fn obus(unit: &[u8]) -> Result<Vec<Obu>, PacketizeError> {
    let mut obus = Vec::new();
    let mut rest = unit;
    while let Some(&header) = rest.first() {
        if header & 0x80 != 0 {
            return Err(PacketizeError::MalformedFrame);
        }
        let kind = (header >> 3) & 0x0f;
        let header_len = if header & 0x04 != 0 { 2 } else { 1 };
        let has_size = header & 0x02 != 0;
        let head = rest
            .get(..header_len)
            .ok_or(PacketizeError::MalformedFrame)?;
        let after_header = &rest[header_len..];
        let (payload, next) = if has_size {
            let (size, used) = read_leb128(after_header).ok_or(PacketizeError::MalformedFrame)?;
            let body = &after_header[used..];
            let size = usize::try_from(size)
                .ok()
                .filter(|size| *size <= body.len())
                .ok_or(PacketizeError::MalformedFrame)?;
            (&body[..size], &body[size..])
        } else {
            (after_header, &after_header[after_header.len()..])
        };
        rest = next;
        if kind == OBU_TEMPORAL_DELIMITER || kind == OBU_TILE_LIST {
            continue;
        }
        let mut bytes = Vec::with_capacity(head.len() + payload.len());
        bytes.push(head[0] & !0x02);
        bytes.extend_from_slice(&head[1..]);
        bytes.extend_from_slice(payload);
        obus.push(Obu { kind, bytes });
    }
    Ok(obus)
}

/// The payloads (aggregation header and elements) of a temporal unit in packets of at most
/// `room` payload bytes.
pub(super) fn payloads(unit: &[u8], room: usize) -> Result<Vec<Vec<u8>>, PacketizeError> {
    // The aggregation header, and one byte of element with its one-byte length.
    if room < 3 {
        return Err(PacketizeError::MtuTooSmall);
    }
    let obus = obus(unit)?;
    if obus.is_empty() {
        return Err(PacketizeError::EmptyFrame);
    }
    let starts_sequence = obus.iter().any(|obu| obu.kind == OBU_SEQUENCE_HEADER);
    let mut packets: Vec<PacketBuilder<'_>> = vec![PacketBuilder::default()];
    for obu in &obus {
        let mut piece: &[u8] = &obu.bytes;
        loop {
            let packet = packets.last_mut().expect("one packet at least");
            // Filled conservatively: every element with its length while the packet grows.
            let free = room - 1 - packet.used;
            let whole = leb128_len(piece.len()) + piece.len();
            if whole <= free {
                packet.push(piece);
                break;
            }
            let fits = fragment_fitting(free);
            if fits == 0 {
                packets.push(PacketBuilder::default());
                continue;
            }
            packet.push(&piece[..fits]);
            packet.continues = true;
            piece = &piece[fits..];
            packets.push(PacketBuilder {
                continued: true,
                ..PacketBuilder::default()
            });
        }
    }
    Ok(packets
        .iter()
        .enumerate()
        .map(|(k, packet)| packet.payload(k == 0 && starts_sequence))
        .collect())
}

/// The elements of one packet as they are gathered.
#[derive(Debug, Default)]
struct PacketBuilder<'a> {
    elements: Vec<&'a [u8]>,
    /// Bytes of elements with their lengths.
    used: usize,
    /// `Z`: the first element continues the previous packet's last.
    continued: bool,
    /// `Y`: the last element continues in the next packet.
    continues: bool,
}

impl<'a> PacketBuilder<'a> {
    fn push(&mut self, element: &'a [u8]) {
        self.used += leb128_len(element.len()) + element.len();
        self.elements.push(element);
    }

    fn payload(&self, new_sequence: bool) -> Vec<u8> {
        let counted = self.elements.len() <= MAX_COUNTED;
        let w = if counted {
            self.elements.len() as u8
        } else {
            0
        };
        let header = (u8::from(self.continued) << 7)
            | (u8::from(self.continues) << 6)
            | (w << 4)
            | (u8::from(new_sequence) << 3);
        let mut payload = Vec::with_capacity(1 + self.used);
        payload.push(header);
        for (k, element) in self.elements.iter().enumerate() {
            if !(counted && k + 1 == self.elements.len()) {
                write_leb128(&mut payload, element.len());
            }
            payload.extend_from_slice(element);
        }
        payload
    }
}

/// The longest fragment that fits in `free` bytes with its length field.
fn fragment_fitting(free: usize) -> usize {
    let mut n = free.saturating_sub(1);
    while n > 0 && leb128_len(n) + n > free {
        n -= 1;
    }
    n
}

/// How many bytes `value` takes in LEB128.
fn leb128_len(value: usize) -> usize {
    let bits = usize::BITS - value.leading_zeros();
    (bits as usize).div_ceil(7).max(1)
}

fn write_leb128(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A LEB128 value (at most eight bytes, AV1 §4.10.5) and the bytes it took.
pub(super) fn read_leb128(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (k, &byte) in bytes.iter().take(8).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * k);
        if byte & 0x80 == 0 {
            return Some((value, k + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An OBU of `kind` with its size field and `len` payload bytes.
    fn sized_obu(kind: u8, len: usize) -> Vec<u8> {
        let mut obu = vec![(kind << 3) | 0x02];
        write_leb128(&mut obu, len);
        obu.extend((0..len).map(|i| (i % 253) as u8));
        obu
    }

    /// The OBUs a receiver rebuilds from payloads (the format's depacketization, §7).
    fn depacketize(payloads: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let mut obus: Vec<Vec<u8>> = Vec::new();
        let mut open = false;
        for payload in payloads {
            let header = payload[0];
            let (z, y, w) = (header & 0x80 != 0, header & 0x40 != 0, (header >> 4) & 3);
            assert_eq!(
                z, open,
                "Z says whether the previous packet left an OBU open"
            );
            let mut rest = &payload[1..];
            let mut k = 0;
            while !rest.is_empty() {
                k += 1;
                let len = if w != 0 && k == usize::from(w) {
                    rest.len()
                } else {
                    let (len, used) = read_leb128(rest).unwrap();
                    rest = &rest[used..];
                    len as usize
                };
                let element = &rest[..len];
                rest = &rest[len..];
                if k == 1 && z {
                    obus.last_mut().unwrap().extend_from_slice(element);
                } else {
                    obus.push(element.to_vec());
                }
            }
            if w != 0 {
                assert_eq!(k, usize::from(w), "W counts the elements");
            }
            open = y;
        }
        assert!(!open, "the last packet closes its OBU");
        obus
    }

    #[test]
    fn leb128_round_trips() {
        for value in [0usize, 1, 127, 128, 300, 16_383, 16_384, 1 << 28] {
            let mut bytes = Vec::new();
            write_leb128(&mut bytes, value);
            assert_eq!(bytes.len(), leb128_len(value));
            assert_eq!(read_leb128(&bytes), Some((value as u64, bytes.len())));
        }
        assert_eq!(read_leb128(&[0x80; 9]), None);
        assert_eq!(read_leb128(&[0x80]), None);
    }

    #[test]
    fn small_unit_is_one_packet_without_delimiter_and_size_fields() {
        let mut unit = sized_obu(OBU_TEMPORAL_DELIMITER, 0);
        unit.extend(sized_obu(OBU_SEQUENCE_HEADER, 10));
        unit.extend(sized_obu(6, 40)); // frame
        let payloads = payloads(&unit, 1000).unwrap();
        assert_eq!(payloads.len(), 1);
        // Z=0 Y=0 W=2 N=1.
        assert_eq!(payloads[0][0], 0b0010_1000);
        let rebuilt = depacketize(&payloads);
        assert_eq!(rebuilt.len(), 2);
        assert_eq!(rebuilt[0][0], OBU_SEQUENCE_HEADER << 3, "size flag cleared");
        assert_eq!(rebuilt[0].len(), 11);
        assert_eq!(rebuilt[1].len(), 41);
    }

    #[test]
    fn large_obu_is_fragmented_with_z_and_y() {
        let unit = sized_obu(6, 5000);
        let payloads = payloads(&unit, 1187).unwrap();
        assert!(payloads.len() >= 5);
        assert!(payloads.iter().all(|p| p.len() <= 1187));
        let flags: Vec<u8> = payloads.iter().map(|p| p[0] & 0xc0).collect();
        assert_eq!(flags[0], 0x40);
        assert!(flags[1..flags.len() - 1].iter().all(|f| *f == 0xc0));
        assert_eq!(*flags.last().unwrap(), 0x80);
        assert!(
            payloads.iter().all(|p| p[0] & 0x08 == 0),
            "no sequence header"
        );
        let rebuilt = depacketize(&payloads);
        assert_eq!(rebuilt, vec![obus(&unit).unwrap().remove(0).bytes]);
    }

    #[test]
    fn many_obus_use_w_zero_and_keep_every_byte() {
        let mut unit = Vec::new();
        let sizes = [3usize, 700, 2, 1, 90, 1500, 4, 4, 4, 4, 300];
        for (k, size) in sizes.iter().enumerate() {
            unit.extend(sized_obu(if k == 0 { 1 } else { 6 }, *size));
        }
        for room in [3usize, 7, 64, 200, 1187] {
            let payloads = payloads(&unit, room).unwrap();
            assert!(payloads.iter().all(|p| p.len() <= room), "room {room}");
            let expected: Vec<Vec<u8>> =
                obus(&unit).unwrap().into_iter().map(|o| o.bytes).collect();
            assert_eq!(depacketize(&payloads), expected, "room {room}");
            assert_eq!(payloads[0][0] & 0x08, 0x08);
            if room == 1187 {
                assert!(payloads.iter().any(|p| p[0] & 0x30 == 0), "a packet of W=0");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_unit_in_any_room_depacketizes_to_its_obus(
            sizes in proptest::collection::vec(0usize..2500, 1..12),
            room in 3usize..1500,
        ) {
            let mut unit = Vec::new();
            for (k, size) in sizes.iter().enumerate() {
                unit.extend(sized_obu(if k % 4 == 3 { OBU_TEMPORAL_DELIMITER } else { 6 }, *size));
            }
            let expected: Vec<Vec<u8>> = obus(&unit).unwrap().into_iter().map(|o| o.bytes).collect();
            match payloads(&unit, room) {
                Ok(payloads) => {
                    proptest::prop_assert!(payloads.iter().all(|p| p.len() <= room));
                    proptest::prop_assert_eq!(depacketize(&payloads), expected);
                }
                Err(error) => {
                    proptest::prop_assert_eq!(error, PacketizeError::EmptyFrame);
                    proptest::prop_assert!(expected.is_empty());
                }
            }
        }
    }

    #[test]
    fn last_obu_without_size_field_and_extension_header() {
        // An OBU with an extension byte, without a size field: it runs to the end.
        let unit = [(6 << 3) | 0x04, 0x28, 1, 2, 3];
        assert_eq!(obus(&unit).unwrap()[0].bytes, unit);
    }

    #[test]
    fn malformed_units_are_refused() {
        for unit in [
            &[0x80u8][..],            // forbidden bit
            &[(6 << 3) | 0x02, 9, 1], // size past the end
            &[(6 << 3) | 0x06],       // extension byte missing
            &[(6 << 3) | 0x02, 0x80], // size field unterminated
        ] {
            assert_eq!(payloads(unit, 1000), Err(PacketizeError::MalformedFrame));
        }
        assert_eq!(
            payloads(&sized_obu(OBU_TEMPORAL_DELIMITER, 0), 1000),
            Err(PacketizeError::EmptyFrame)
        );
        assert_eq!(
            payloads(&sized_obu(6, 5), 2),
            Err(PacketizeError::MtuTooSmall)
        );
    }
}
