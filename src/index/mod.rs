//! The persistent query index beside the catalogue.
