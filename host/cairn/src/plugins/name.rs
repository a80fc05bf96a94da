/// Plugin names appear in URLs, logs and metric labels, so they are short,
/// lowercase and free of spaces.
pub fn validate_plugin_name(name: &str) -> Result<(), String> {
    let well_formed = !name.is_empty()
        && name.len() <= 64
        && name.chars().next().is_some_and(|first| first.is_ascii_lowercase() || first.is_ascii_digit())
        && name.chars().all(|character| {
            character.is_ascii_lowercase() || character.is_ascii_digit() || matches!(character, '-' | '_' | '.')
        });
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid plugin name; use 1 to 64 lowercase letters, digits, `-`, `_` or `.`, starting with a letter or digit"
        ))
    }
}
