// English function words (the Snowball English stop list, folded, apostrophes split the way the
// tokenizer splits them). They carry no topic, and with no corpus statistics in the embedder
// nothing else would stop "the" from outweighing "aeroelastic".
export const ENGLISH_STOPWORDS: ReadonlySet<string> = new Set(
  `i me my myself we us our ours ourselves you your yours yourself yourselves he him his himself
  she her hers herself it its itself they them their theirs themselves what which who whom this
  that these those am is are was were be been being have has had having do does did doing would
  should could ought will shall can may might must a an the and but if or because as until while
  of at by for with about against between into through during before after above below to from up
  down in out on off over under again further then once here there when where why how all any
  both each few more most other some such no nor not only own same so than too very s t d ll m o
  re ve y don isn aren wasn weren hasn haven hadn doesn didn won wouldn shan shouldn can cannot
  couldn mustn let also just`
    .split(/\s+/)
    .filter((w) => w !== ''),
);
