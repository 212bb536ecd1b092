"""Noise for text: token-level noise on padded id batches from any tokenizer (`mithridate.text.tokens`:
masking, denoising noise, span corruption, random replacement) and string-level noise on raw text with an
alignment to the original (`mithridate.text.strings`: typos, misspellings, word ops, text TrivialAugment,
the text corruption suite). Every sample draws its own noise from (seed, epoch, sample index, stream)."""
