use std::fmt;

/// One thing wrong with the input, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Such as "event 3" or "line 12"; empty when the whole input is meant.
    pub location: String,
    pub message: String,
}

impl Problem {
    pub fn new(location: impl Into<String>, message: impl Into<String>) -> Self {
        Self { location: location.into(), message: message.into() }
    }

    pub fn list(problems: &[Problem]) -> String {
        let mut text = String::new();
        for (index, problem) in problems.iter().enumerate() {
            if index > 0 {
                text.push_str("; ");
            }
            text.push_str(&problem.to_string());
        }
        text
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.location, self.message)
        }
    }
}
