//! A small AMF0 decoder for the arguments of RTMP commands: the gate reads the command
//! name, the `app` of `connect` and the stream name of `publish`, nothing more, so it
//! decodes the common value types and refuses the rest.

/// How deeply objects and arrays may nest; connect objects nest one level.
const MAX_DEPTH: usize = 16;

/// Why a value could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmfError {
    /// The body ended inside a value.
    #[error("AMF0 value cut short")]
    Truncated,
    /// A type marker this decoder does not read (references, XML, AMF3 switch, ...).
    #[error("unsupported AMF0 type marker {0:#04x}")]
    Unsupported(u8),
    /// Objects nested deeper than any command needs.
    #[error("AMF0 values nested too deeply")]
    TooDeep,
}

/// One decoded AMF0 value. Strings stay bytes: the gate compares them, never shows them.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Marker 0x00.
    Number(f64),
    /// Marker 0x01.
    Boolean(bool),
    /// Markers 0x02 and 0x0C (long string).
    String(Vec<u8>),
    /// Markers 0x03 and 0x08 (ECMA array), in their order.
    Object(Vec<(Vec<u8>, Value)>),
    /// Marker 0x05.
    Null,
    /// Marker 0x06.
    Undefined,
    /// Marker 0x0A.
    StrictArray(Vec<Value>),
    /// Marker 0x0B (milliseconds; the time zone is dropped).
    Date(f64),
}

impl Value {
    /// The bytes of a string value.
    pub fn as_str_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The first value named `key` in an object.
    pub fn field(&self, key: &[u8]) -> Option<&Value> {
        match self {
            Value::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Reads AMF0 values one after another from a message body.
pub struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    /// A decoder at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// The next value.
    pub fn value(&mut self) -> Result<Value, AmfError> {
        self.value_at(0)
    }

    fn value_at(&mut self, depth: usize) -> Result<Value, AmfError> {
        if depth > MAX_DEPTH {
            return Err(AmfError::TooDeep);
        }
        let marker = self.u8()?;
        Ok(match marker {
            0x00 => Value::Number(self.f64()?),
            0x01 => Value::Boolean(self.u8()? != 0),
            0x02 => {
                let len = self.u16()?;
                Value::String(self.take(usize::from(len))?.to_vec())
            }
            0x03 => Value::Object(self.fields(depth)?),
            0x05 => Value::Null,
            0x06 => Value::Undefined,
            0x08 => {
                self.u32()?; // the count is a hint; the end marker ends the array
                Value::Object(self.fields(depth)?)
            }
            0x0A => {
                let count = self.u32()?;
                let mut items = Vec::new();
                for _ in 0..count {
                    items.push(self.value_at(depth + 1)?);
                }
                Value::StrictArray(items)
            }
            0x0B => {
                let ms = self.f64()?;
                self.take(2)?;
                Value::Date(ms)
            }
            0x0C => {
                let len = self.u32()?;
                let len = usize::try_from(len).map_err(|_| AmfError::Truncated)?;
                Value::String(self.take(len)?.to_vec())
            }
            other => return Err(AmfError::Unsupported(other)),
        })
    }

    /// Name/value pairs up to the empty name and object-end marker.
    fn fields(&mut self, depth: usize) -> Result<Vec<(Vec<u8>, Value)>, AmfError> {
        let mut fields = Vec::new();
        loop {
            let len = self.u16()?;
            if len == 0 {
                match self.u8()? {
                    0x09 => return Ok(fields),
                    other => return Err(AmfError::Unsupported(other)),
                }
            }
            let key = self.take(usize::from(len))?.to_vec();
            let value = self.value_at(depth + 1)?;
            fields.push((key, value));
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], AmfError> {
        let end = self.pos.checked_add(n).ok_or(AmfError::Truncated)?;
        let bytes = self.buf.get(self.pos..end).ok_or(AmfError::Truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, AmfError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, AmfError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, AmfError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f64(&mut self) -> Result<f64, AmfError> {
        let b = self.take(8)?;
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(b);
        Ok(f64::from_be_bytes(bytes))
    }
}

/// Encoders for building command bodies in tests.
#[cfg(test)]
pub mod encode {
    /// An AMF0 string.
    pub fn string(out: &mut Vec<u8>, s: &str) {
        out.push(0x02);
        out.extend((s.len() as u16).to_be_bytes());
        out.extend(s.as_bytes());
    }

    /// An AMF0 number.
    pub fn number(out: &mut Vec<u8>, n: f64) {
        out.push(0x00);
        out.extend(n.to_be_bytes());
    }

    /// AMF0 null.
    pub fn null(out: &mut Vec<u8>) {
        out.push(0x05);
    }

    /// An AMF0 object of string fields.
    pub fn object(out: &mut Vec<u8>, fields: &[(&str, &str)]) {
        out.push(0x03);
        for (k, v) in fields {
            out.extend((k.len() as u16).to_be_bytes());
            out.extend(k.as_bytes());
            string(out, v);
        }
        out.extend([0, 0, 0x09]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_connect_command() {
        let mut body = Vec::new();
        encode::string(&mut body, "connect");
        encode::number(&mut body, 1.0);
        encode::object(&mut body, &[("app", "live"), ("type", "nonprivate")]);
        let mut d = Decoder::new(&body);
        assert_eq!(d.value(), Ok(Value::String(b"connect".to_vec())));
        assert_eq!(d.value(), Ok(Value::Number(1.0)));
        let obj = d.value().unwrap();
        assert_eq!(obj.field(b"app"), Some(&Value::String(b"live".to_vec())));
        assert_eq!(d.value(), Err(AmfError::Truncated));
    }

    #[test]
    fn refuses_truncated_unsupported_and_deep_values() {
        assert_eq!(
            Decoder::new(&[0x02, 0, 5, b'a']).value(),
            Err(AmfError::Truncated)
        );
        assert_eq!(
            Decoder::new(&[0x11]).value(),
            Err(AmfError::Unsupported(0x11))
        );
        let mut deep = Vec::new();
        for _ in 0..=MAX_DEPTH + 1 {
            deep.extend([0x03, 0, 1, b'k']);
        }
        assert_eq!(Decoder::new(&deep).value(), Err(AmfError::TooDeep));
        let huge_array = [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x05];
        assert_eq!(Decoder::new(&huge_array).value(), Err(AmfError::Truncated));
    }
}
