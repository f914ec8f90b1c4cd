//! Analysis of the question: normalisation, tokens, numbers, dates, top-N and intent.
