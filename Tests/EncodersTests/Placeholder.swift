// Placeholder: replaced as this module is built.
