"""Operations: the usage report for the Council, backup and restore."""
