int mms_placeholder_symbol;
